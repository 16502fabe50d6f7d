/**
 * The trigger's OAuth2 mode on the n8n side: the credential read into plain settings, and the
 * engine's HTTP requests (JWKS, token introspection) sent through n8n's own httpRequest helper.
 * Reading the credential and sending requests stay in separate functions on purpose: the requests
 * carry no n8n credential authentication, the engine adds what the endpoint needs.
 */
import type {
	ICredentialDataDecryptedObject,
	IHookFunctions,
	IHttpRequestOptions,
	IWebhookFunctions,
} from 'n8n-workflow';

import type { HttpFetch, InboundOAuth2Settings, VerificationMode } from '../../lib/inbound/oauth';

export const INBOUND_OAUTH2_CREDENTIAL = 'profileWebhookInboundOAuth2Api';

const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
const optionalNumber = (value: unknown) =>
	value === undefined || value === null || value === '' ? undefined : Number(value);

/** The credential's values as the engine's settings. */
export function inboundOAuth2Settings(data: ICredentialDataDecryptedObject): InboundOAuth2Settings {
	const algorithms = data.allowedAlgorithms;
	return {
		verification: text(data.verification || 'jwt') as VerificationMode,
		issuer: text(data.issuer),
		audience: text(data.audience),
		keySource: data.keySource === 'sharedSecret' ? 'sharedSecret' : 'jwks',
		jwksUrl: text(data.jwksUrl),
		sharedSecret: text(data.sharedSecret),
		allowedAlgorithms: Array.isArray(algorithms) ? algorithms.map(String) : undefined,
		jwksCooldownSeconds: optionalNumber(data.jwksCooldownSeconds),
		introspectionUrl: text(data.introspectionUrl),
		introspectionClientId: text(data.introspectionClientId),
		introspectionClientSecret: text(data.introspectionClientSecret),
		introspectionClientAuthentication: data.introspectionClientAuthentication === 'body' ? 'body' : 'basic',
		introspectionCacheSeconds: optionalNumber(data.introspectionCacheSeconds),
		introspectionMaxPerSecond: optionalNumber(data.introspectionMaxPerSecond),
		clockSkewSeconds: optionalNumber(data.clockSkewSeconds),
		requiredScopes: text(data.requiredScopes),
		registeredApplications: text(data.registeredApplications),
		tokenLifetimeSeconds: optionalNumber(data.tokenLifetimeSeconds),
		tokenSigningSecret: text(data.tokenSigningSecret),
	};
}

export async function readInboundOAuth2Settings(
	context: IWebhookFunctions | IHookFunctions,
): Promise<InboundOAuth2Settings> {
	return inboundOAuth2Settings(await context.getCredentials(INBOUND_OAUTH2_CREDENTIAL));
}

/** The engine's HTTP function over n8n's httpRequest helper (proxy settings, SSRF rules, logging). */
export function n8nHttpFetch(context: IWebhookFunctions): HttpFetch {
	return async (request) => {
		const options: IHttpRequestOptions = {
			method: request.method,
			url: request.url,
			headers: request.headers,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: 10_000,
		};
		if (request.body !== undefined) options.body = request.body;
		const response = (await context.helpers.httpRequest(options)) as { statusCode: number; body: unknown };
		return { status: response.statusCode, body: response.body };
	};
}
