/** Bearer token authentication for the Profile Webhook Trigger; no n8n imports. */
export * from './errors';
export type { HttpFetch, HttpRequest, HttpResponse } from './http';
export {
	answerTokenRequest,
	authenticateBearer,
	bearerToken,
	compileInboundOAuth2,
	getInboundOAuth2,
	issuesTokens,
	triggerAudience,
	TRIGGER_ISSUER,
	type AccessTokenInfo,
	type CompiledInboundOAuth2,
	type InboundOAuth2Settings,
	type VerificationMode,
} from './inboundOAuth2';
export type { TokenRequest, TokenResponse } from './tokenEndpoint';
