/**
 * The trigger as its own authorization server, for the client_credentials grant only (RFC 6749
 * section 4.4): registered applications authenticate with HTTP Basic or with client_id and
 * client_secret in the body, and get a short-lived HS256 JWT access token that the trigger's
 * ordinary bearer token verification accepts. Errors are RFC 6749 section 5.2 answers.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';

import { SignJWT } from 'jose';

import { BEARER_REALM } from './errors';
import { secretDigest, type RegisteredApplication } from './registeredApplications';

export interface TokenIssuerConfig {
	applications: readonly RegisteredApplication[];
	signingKey: Uint8Array;
	lifetimeSeconds: number;
	issuer: string;
	audience: string;
	/** Granted to applications that list no scopes of their own. */
	defaultScopes: readonly string[];
}

export interface TokenRequest {
	method: string;
	contentType?: string;
	headers: Record<string, string | string[] | undefined>;
	/** The parsed form body. */
	body: unknown;
}

export interface TokenResponse {
	status: number;
	headers: Record<string, string>;
	body: Record<string, unknown>;
}

type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
/** Compared against when the client id is unknown, so both paths cost the same. */
const UNKNOWN_CLIENT_DIGEST = secretDigest(randomUUID());

function oauthError(status: number, error: OAuthErrorCode, description: string): TokenResponse {
	const headers: Record<string, string> = { ...NO_STORE };
	if (error === 'invalid_client') headers['WWW-Authenticate'] = `Basic realm="${BEARER_REALM}"`;
	return { status, headers, body: { error, error_description: description } };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value[0] : value;
}

/** `application/x-www-form-urlencoded` decoding of one Basic credential part, or the raw part. */
function formDecoded(value: string): string {
	try {
		return decodeURIComponent(value.replace(/\+/g, ' '));
	} catch {
		return value;
	}
}

function authenticate(
	applications: readonly RegisteredApplication[],
	pairs: Array<{ id: string; secret: string }>,
): RegisteredApplication | undefined {
	let match: RegisteredApplication | undefined;
	for (const { id, secret } of pairs) {
		const application = applications.find((a) => a.clientId === id);
		const expected = application?.secretDigest ?? UNKNOWN_CLIENT_DIGEST;
		const equal = timingSafeEqual(secretDigest(secret), expected);
		if (equal && application && !match) match = application;
	}
	return match;
}

export async function handleTokenRequest(
	request: TokenRequest,
	config: TokenIssuerConfig,
	nowMs: number = Date.now(),
): Promise<TokenResponse> {
	if (request.method.toUpperCase() !== 'POST') {
		return oauthError(405, 'invalid_request', 'The token endpoint only accepts POST');
	}
	if (!request.contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
		return oauthError(400, 'invalid_request', 'Send the token request as application/x-www-form-urlencoded');
	}
	const params: Record<string, string> = {};
	const body = request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
	for (const [name, value] of Object.entries(body)) {
		if (typeof value !== 'string') {
			return oauthError(400, 'invalid_request', `The parameter ${name} is repeated or not a plain value`);
		}
		params[name] = value;
	}
	if (!params.grant_type) return oauthError(400, 'invalid_request', 'The grant_type parameter is missing');

	// Client authentication: HTTP Basic (RFC 6749 section 2.3.1) or client_secret in the body.
	const authorization = firstHeader(request.headers.authorization)?.trim();
	let pairs: Array<{ id: string; secret: string }>;
	if (authorization) {
		const basic = /^Basic\s+([A-Za-z0-9+/]+=*)$/i.exec(authorization);
		const decoded = basic ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
		const colon = decoded.indexOf(':');
		if (colon < 0) {
			return oauthError(401, 'invalid_client', 'The Authorization header is not HTTP Basic client authentication');
		}
		if (params.client_secret !== undefined) {
			return oauthError(400, 'invalid_request', 'The client authenticated twice (Authorization header and client_secret); use one method');
		}
		const raw = { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
		// RFC 6749 asks clients to form-encode both parts; many (n8n among them) do not. Both readings
		// are tried, each in constant time.
		const encoded = { id: formDecoded(raw.id), secret: formDecoded(raw.secret) };
		pairs = encoded.id === raw.id && encoded.secret === raw.secret ? [raw] : [raw, encoded];
		if (params.client_id !== undefined && !pairs.some((p) => p.id === params.client_id)) {
			return oauthError(400, 'invalid_request', 'The client_id parameter differs from the authenticated client');
		}
	} else if (params.client_id !== undefined && params.client_secret !== undefined) {
		pairs = [{ id: params.client_id, secret: params.client_secret }];
	} else {
		return oauthError(
			401,
			'invalid_client',
			'No client authentication: send the client id and secret with HTTP Basic or as client_id and client_secret',
		);
	}
	const application = authenticate(config.applications, pairs);
	if (!application) {
		return oauthError(401, 'invalid_client', 'Client authentication failed: unknown client or wrong secret');
	}

	if (params.grant_type !== 'client_credentials') {
		return oauthError(400, 'unsupported_grant_type', `The grant type ${JSON.stringify(params.grant_type)} is not supported here; use client_credentials`);
	}
	const allowed = application.scopes ?? config.defaultScopes;
	const requested = (params.scope ?? '').split(' ').filter(Boolean);
	const refused = requested.filter((s) => !allowed.includes(s));
	if (refused.length) {
		return oauthError(400, 'invalid_scope', `The scope ${refused.join(' ')} is not granted to the client ${application.clientId}`);
	}
	const granted = requested.length ? requested : [...allowed];

	const iat = Math.floor(nowMs / 1000);
	const claims: Record<string, unknown> = {
		iss: config.issuer,
		aud: config.audience,
		sub: application.clientId,
		client_id: application.clientId,
		iat,
		exp: iat + config.lifetimeSeconds,
		jti: randomUUID(),
		...(granted.length ? { scope: granted.join(' ') } : {}),
	};
	return {
		status: 200,
		headers: { ...NO_STORE },
		body: {
			access_token: await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(config.signingKey),
			token_type: 'Bearer',
			expires_in: config.lifetimeSeconds,
			...(granted.length ? { scope: granted.join(' ') } : {}),
		},
	};
}
