/**
 * How a Profile Webhook Trigger in OAuth2 mode decides about bearer tokens, compiled once per
 * credential content: the external authorization server (JWT access tokens checked against a JWKS
 * or a shared secret, or opaque tokens by introspection) and, when the credential lists
 * registered applications, the tokens the trigger issues itself at its token URL.
 * Compiled configurations are kept, so JWKS and introspection caches live across requests.
 */
import { decodeJwt } from 'jose';

import { ConfigurationError, type ValidationIssue } from '../../errors';
import { memoizeByContent } from '../../memoizeByContent';
import type { AcceptedClaims, ClaimRules } from './claims';
import { TokenRefusedError } from './errors';
import type { HttpFetch } from './http';
import { DEFAULT_MAX_INTROSPECTIONS_PER_SECOND, Introspector } from './introspection';
import { JwksCache } from './jwks';
import { parseRegisteredApplications, type RegisteredApplication } from './registeredApplications';
import { handleTokenRequest, type TokenRequest, type TokenResponse } from './tokenEndpoint';
import { isJwsAlgorithm, looksLikeJwt, verifyJwt, type JwsAlgorithm, type JwtVerification } from './verifyJwt';

export type VerificationMode = 'jwt' | 'introspection' | 'registeredApplicationsOnly';

/** The credential's values, as plain data. */
export interface InboundOAuth2Settings {
	verification: VerificationMode;
	issuer?: string;
	/** One or more accepted audiences, separated by commas, spaces or new lines. */
	audience?: string;
	keySource?: 'jwks' | 'sharedSecret';
	jwksUrl?: string;
	sharedSecret?: string;
	allowedAlgorithms?: string[];
	jwksCooldownSeconds?: number;
	introspectionUrl?: string;
	introspectionClientId?: string;
	introspectionClientSecret?: string;
	introspectionClientAuthentication?: 'basic' | 'body';
	introspectionCacheSeconds?: number;
	/** At most this many introspection calls a second; more are answered 503 (default 10). */
	introspectionMaxPerSecond?: number;
	clockSkewSeconds?: number;
	/** Scopes every token must grant, separated by spaces or commas. */
	requiredScopes?: string;
	registeredApplications?: string;
	tokenLifetimeSeconds?: number;
	tokenSigningSecret?: string;
}

/** The `iss` of the tokens a trigger issues; their `aud` adds the webhook path. */
export const TRIGGER_ISSUER = 'urn:n8n-nodes-profile-webhooks:trigger';
export const triggerAudience = (webhookPath: string) =>
	`${TRIGGER_ISSUER}:${webhookPath.replace(/^\/+|\/+$/g, '')}`;

export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;
export const DEFAULT_INTROSPECTION_CACHE_SECONDS = 60;
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 30;
/** RFC 7518 section 3.2: an HS256 key has at least 256 bits. */
export const MIN_HS256_SECRET_LENGTH = 32;

type External =
	| { kind: 'jwt'; verification: JwtVerification }
	| { kind: 'introspection'; introspector: Introspector; rules: ClaimRules }
	| { kind: 'none' };

interface SelfIssued {
	applications: RegisteredApplication[];
	signingKey: Uint8Array;
	lifetimeSeconds: number;
}

export interface CompiledInboundOAuth2 {
	external: External;
	self?: SelfIssued;
	requiredScopes: string[];
	clockSkewSeconds: number;
	clock: () => number;
}

export interface AccessTokenInfo extends AcceptedClaims {
	/** Which check accepted the token. */
	via: 'jwt' | 'introspection' | 'trigger';
}

export interface CompileOptions {
	/** For tests: the time source of every check and cache. */
	clock?: () => number;
}

const list = (value: string | undefined) => (value ?? '').split(/[\s,]+/).filter(Boolean);

function httpUrl(issues: ValidationIssue[], target: string, value: string | undefined): string | undefined {
	const text = (value ?? '').trim();
	if (!text) {
		issues.push({ target, message: 'is required' });
		return undefined;
	}
	try {
		const url = new URL(text);
		if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
	} catch {
		// reported below
	}
	issues.push({ target, message: `${JSON.stringify(text)} is not an http(s) URL` });
	return undefined;
}

function wholeNumber(
	issues: ValidationIssue[],
	target: string,
	value: number | undefined,
	fallback: number,
	min: number,
	max: number,
): number {
	const n = value ?? fallback;
	if (!Number.isInteger(n) || n < min || n > max) {
		issues.push({ target, message: `must be a whole number from ${min} to ${max}` });
		return fallback;
	}
	return n;
}

function secretKey(issues: ValidationIssue[], target: string, value: string | undefined): Uint8Array | undefined {
	const secret = value ?? '';
	if (Buffer.byteLength(secret, 'utf8') < MIN_HS256_SECRET_LENGTH) {
		issues.push({ target, message: `must be at least ${MIN_HS256_SECRET_LENGTH} characters (256 bits for HS256)` });
		return undefined;
	}
	return new Uint8Array(Buffer.from(secret, 'utf8'));
}

export function compileInboundOAuth2(
	settings: InboundOAuth2Settings,
	options: CompileOptions = {},
): CompiledInboundOAuth2 {
	const issues: ValidationIssue[] = [];
	const clock = options.clock ?? (() => Date.now());
	const clockSkewSeconds = wholeNumber(issues, 'Clock Skew', settings.clockSkewSeconds, DEFAULT_CLOCK_SKEW_SECONDS, 0, 600);
	const requiredScopes = list(settings.requiredScopes);
	const issuer = settings.issuer?.trim() || undefined;
	const audiences = list(settings.audience);
	const rules: ClaimRules = { issuer, audiences, requiredScopes, clockSkewSeconds, requireExpiry: true };

	let external: External = { kind: 'none' };
	switch (settings.verification) {
		case 'jwt': {
			if (!issuer) issues.push({ target: 'Issuer', message: 'is required for JWT access tokens' });
			if (!audiences.length) {
				issues.push({
					target: 'Audience',
					message: 'is required for JWT access tokens (otherwise any token of that issuer, for any API, would pass)',
				});
			}
			if (settings.keySource === 'sharedSecret') {
				const key = secretKey(issues, 'Shared Secret', settings.sharedSecret);
				if (key) external = { kind: 'jwt', verification: { keys: { kind: 'secret', key }, rules } };
			} else {
				const url = httpUrl(issues, 'JWKS URL', settings.jwksUrl);
				const requested = settings.allowedAlgorithms ?? ['RS256', 'ES256'];
				const algorithms = requested.filter((a): a is JwsAlgorithm => isJwsAlgorithm(a) && a !== 'HS256');
				if (!algorithms.length || algorithms.length !== requested.length) {
					issues.push({ target: 'Allowed Algorithms', message: 'choose RS256, ES256 or both (keys from a JWKS are public keys)' });
				}
				const cooldown = wholeNumber(issues, 'JWKS Refetch Cooldown', settings.jwksCooldownSeconds, DEFAULT_JWKS_COOLDOWN_SECONDS, 1, 3600);
				if (url) {
					const jwks = new JwksCache({ url, cooldownMs: cooldown * 1000, clock });
					external = { kind: 'jwt', verification: { keys: { kind: 'jwks', jwks, algorithms }, rules } };
				}
			}
			break;
		}
		case 'introspection': {
			const url = httpUrl(issues, 'Introspection URL', settings.introspectionUrl);
			const clientId = settings.introspectionClientId?.trim() ?? '';
			const clientSecret = settings.introspectionClientSecret ?? '';
			if (!clientId) issues.push({ target: 'Introspection Client ID', message: 'is required' });
			if (!clientSecret) issues.push({ target: 'Introspection Client Secret', message: 'is required' });
			const cacheSeconds = wholeNumber(issues, 'Introspection Cache TTL', settings.introspectionCacheSeconds, DEFAULT_INTROSPECTION_CACHE_SECONDS, 0, 3600);
			const maxPerSecond = wholeNumber(issues, 'Max Introspections per Second', settings.introspectionMaxPerSecond, DEFAULT_MAX_INTROSPECTIONS_PER_SECOND, 1, 1000);
			if (url && clientId && clientSecret) {
				const introspector = new Introspector({
					url,
					clientId,
					clientSecret,
					clientAuthentication: settings.introspectionClientAuthentication === 'body' ? 'body' : 'basic',
					cacheTtlMs: cacheSeconds * 1000,
					maxCallsPerSecond: maxPerSecond,
					clock,
				});
				external = { kind: 'introspection', introspector, rules: { ...rules, requireExpiry: false } };
			}
			break;
		}
		case 'registeredApplicationsOnly':
			break;
		default:
			issues.push({ target: 'Verification', message: `${JSON.stringify(settings.verification)} is not a verification mode` });
	}

	let self: SelfIssued | undefined;
	const applicationsText = settings.registeredApplications ?? '';
	if (applicationsText.trim()) {
		let applications: RegisteredApplication[] = [];
		try {
			applications = parseRegisteredApplications(applicationsText);
		} catch (error) {
			if (!(error instanceof ConfigurationError)) throw error;
			issues.push(...error.issues);
		}
		const signingKey = secretKey(issues, 'Token Signing Secret', settings.tokenSigningSecret);
		const lifetimeSeconds = wholeNumber(issues, 'Token Lifetime', settings.tokenLifetimeSeconds, DEFAULT_TOKEN_LIFETIME_SECONDS, 1, 86_400);
		if (signingKey && applications.length) self = { applications, signingKey, lifetimeSeconds };
	} else if (settings.verification === 'registeredApplicationsOnly') {
		issues.push({ target: 'Registered Applications', message: 'list at least one application (client_id:client_secret per line)' });
	}

	if (issues.length) throw new ConfigurationError(issues);
	return { external, self, requiredScopes, clockSkewSeconds, clock };
}

/** compileInboundOAuth2, kept per credential content (so its key and answer caches persist). */
export const getInboundOAuth2 = memoizeByContent(
	(settings: InboundOAuth2Settings): CompiledInboundOAuth2 => compileInboundOAuth2(settings),
	50,
);

/** RFC 6750 section 2.1: `Authorization: Bearer <b64token>`. */
export function bearerToken(authorization: string | string[] | undefined): string {
	const value = (Array.isArray(authorization) ? authorization[0] : authorization)?.trim();
	if (!value) {
		throw new TokenRefusedError('missing', 'No access token: send it in the Authorization header as "Bearer <token>"');
	}
	const match = /^Bearer +(\S+)$/i.exec(value);
	if (!match) {
		throw new TokenRefusedError(
			/^Bearer\b/i.test(value) ? 'malformed' : 'missing',
			/^Bearer\b/i.test(value)
				? 'The Authorization header holds no well-formed bearer token'
				: 'No access token: the Authorization header does not use the Bearer scheme',
		);
	}
	if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(match[1])) {
		throw new TokenRefusedError('malformed', 'The bearer token has characters a token cannot have');
	}
	return match[1];
}

export interface BearerContext {
	http: HttpFetch;
	/** The trigger's webhook path: the audience of the tokens it issues. */
	webhookPath: string;
}

function selfVerification(config: CompiledInboundOAuth2, self: SelfIssued, webhookPath: string): JwtVerification {
	return {
		keys: { kind: 'secret', key: self.signingKey },
		rules: {
			issuer: TRIGGER_ISSUER,
			audiences: [triggerAudience(webhookPath)],
			requiredScopes: config.requiredScopes,
			clockSkewSeconds: config.clockSkewSeconds,
			requireExpiry: true,
		},
	};
}

/** The `iss` a JWT claims, read without verifying (only to choose the key that verifies it). */
function unverifiedIssuer(token: string): unknown {
	try {
		return decodeJwt(token).iss;
	} catch {
		return undefined;
	}
}

/**
 * Accepts the request's bearer token or throws TokenRefusedError (401/403, with its
 * WWW-Authenticate header) or AuthServerUnavailableError (503).
 */
export async function authenticateBearer(
	config: CompiledInboundOAuth2,
	authorization: string | string[] | undefined,
	context: BearerContext,
): Promise<AccessTokenInfo> {
	const token = bearerToken(authorization);
	const now = config.clock();
	const jwt = looksLikeJwt(token);
	const { external, self } = config;
	// Tokens this trigger issued are recognised by their issuer and then checked only with the
	// trigger's own signing secret; the claim decides the path, the signature still decides.
	if (self && jwt && unverifiedIssuer(token) === TRIGGER_ISSUER) {
		const claims = await verifyJwt(token, selfVerification(config, self, context.webhookPath), context.http, now);
		return { via: 'trigger', ...claims };
	}
	switch (external.kind) {
		case 'jwt':
			if (!jwt) throw new TokenRefusedError('malformed', 'The access token is not a JWT');
			return { via: 'jwt', ...(await verifyJwt(token, external.verification, context.http, now)) };
		case 'introspection':
			return { via: 'introspection', ...(await external.introspector.verify(token, external.rules, context.http)) };
		case 'none': {
			if (jwt) {
				const iss = unverifiedIssuer(token);
				throw new TokenRefusedError(
					'issuer',
					`The access token was issued by ${JSON.stringify(typeof iss === 'string' ? iss : String(iss))}, not by this trigger's token URL`,
				);
			}
			throw new TokenRefusedError('malformed', "The access token is not a token this trigger's token URL issued");
		}
	}
}

/** Whether the trigger answers at its token URL (the credential lists registered applications). */
export function issuesTokens(config: CompiledInboundOAuth2): boolean {
	return config.self !== undefined;
}

/** The token URL's answer, or undefined when this configuration issues no tokens. */
export async function answerTokenRequest(
	config: CompiledInboundOAuth2,
	request: TokenRequest,
	webhookPath: string,
): Promise<TokenResponse | undefined> {
	if (!config.self) return undefined;
	return await handleTokenRequest(
		request,
		{
			applications: config.self.applications,
			signingKey: config.self.signingKey,
			lifetimeSeconds: config.self.lifetimeSeconds,
			issuer: TRIGGER_ISSUER,
			audience: triggerAudience(webhookPath),
			defaultScopes: config.requiredScopes,
		},
		config.clock(),
	);
}
