/**
 * A real OAuth 2.0 authorization server (oidc-provider) and an introspecting protected API on
 * 127.0.0.1, run by `oauthServer.child.mjs` in a child process (oidc-provider is ESM-only; the tests
 * run as CommonJS). The one server for both directions: the outgoing node's credentials, and the
 * JWT (JWKS, HS256) and opaque (introspection) access tokens an OAuth2 trigger verifies. Plus what n8n's server does for the authorization code flow, without a
 * browser: build the authorization URL (PKCE), follow the consent redirects with a cookie jar,
 * and exchange the code with `@n8n/client-oauth2`, as n8n's OAuth2 callback does.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { ClientOAuth2 } from '@n8n/client-oauth2';
import type { IDataObject } from 'n8n-workflow';

/** What a run of the token endpoint and the API looked like since the last reset. */
export interface OAuthStats {
	/** Token endpoint requests by grant_type. */
	token: Record<string, number>;
	/** Successful token answers by grant_type. */
	issued: Record<string, number>;
	/** Refused token requests by grant_type, then OAuth error code. */
	refused: Record<string, Record<string, number>>;
	/** How token requests authenticated the client: basic (header), post (body), none. */
	clientAuth: Partial<Record<'basic' | 'post' | 'none', number>>;
	/** API answers: 200 with an active token, 401 otherwise. */
	api: { ok: number; unauthorized: number };
	introspections: number;
	revocations: number;
	/** JWKS requests. */
	jwks: number;
}

export interface OAuthClient {
	clientId: string;
	clientSecret: string;
}

/** The registered clients (see oauthServer.child.mjs). */
export const CLIENTS = {
	basic: { clientId: 'crm-basic', clientSecret: 'crm-basic-secret' },
	post: { clientId: 'crm-post', clientSecret: 'crm-post-secret' },
} satisfies Record<string, OAuthClient>;

/** The client that gets the tokens a trigger in OAuth2 mode verifies (client_credentials). */
export const AS_CLIENT: OAuthClient = { clientId: 'crm-platform', clientSecret: 'crm-secret' };
/** The trigger's own client at the introspection endpoint. */
export const AS_INTROSPECTOR = { id: 'introspector', secret: 'introspector-secret' };
export const AS_HS256_SECRET = 'hs256-shared-secret-for-tests-0123456789abcdef';
/** The audience of the server's JWT access tokens for every `urn:profiles:api*` resource. */
export const AS_AUDIENCE = 'urn:profiles:api';

/** n8n's redirect URL for an instance at http://127.0.0.1:5678 (the test harness's base URL). */
export const N8N_REDIRECT_URL = 'http://127.0.0.1:5678/rest/oauth2-credential/callback';

export interface OAuthServer {
	issuer: string;
	authUrl: string;
	tokenUrl: string;
	/** The protected API's base URL; any path under /api/ checks the bearer token. */
	apiUrl: string;
	stats(): Promise<OAuthStats>;
	/** Zeroes the counters. */
	reset(): Promise<void>;
	configure(settings: { accessTokenTtl?: number; rotateRefreshToken?: boolean }): Promise<void>;
	/** RFC 7009 revocation, as the client that holds the token. */
	revoke(token: string, client: OAuthClient, hint?: 'access_token' | 'refresh_token'): Promise<void>;
	/** RFC 7662 introspection, as the protected API. */
	introspect(token: string): Promise<{ active: boolean; [claim: string]: unknown }>;
	/** A raw token endpoint request (form body, Basic client authentication). */
	token(form: Record<string, string>, client: OAuthClient): Promise<{ status: number; body: Record<string, unknown> }>;
	jwksUrl: string;
	introspectionUrl: string;
	/** AS_CLIENT's client_credentials access token: a JWT for `resource`, opaque without. */
	accessToken(options?: { scope?: string; resource?: string }): Promise<string>;
	/** Adds a held-back key (kid `rs-rotated`) to the JWKS, as a key rotation would. */
	publish(kid: string): Promise<void>;
	close(): Promise<void>;
}

const basic = (client: OAuthClient) =>
	`Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;

async function json<T>(response: Response): Promise<T> {
	const text = await response.text();
	try {
		return JSON.parse(text) as T;
	} catch {
		throw new Error(`Expected JSON from ${response.url} (${response.status}), got: ${text.slice(0, 200)}`);
	}
}

export async function startOAuthServer(
	settings: { accessTokenTtl?: number; rotateRefreshToken?: boolean } = {},
): Promise<OAuthServer> {
	const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [join(__dirname, 'oauthServer.child.mjs')], {
		env: {
			...process.env,
			ACCESS_TOKEN_TTL: String(settings.accessTokenTtl ?? 3600),
			ROTATE_REFRESH_TOKEN: String(settings.rotateRefreshToken ?? false),
			HS256_SECRET: AS_HS256_SECRET,
		},
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString('utf8');
	});
	const first = await new Promise<string>((resolve, reject) => {
		const lines = createInterface({ input: child.stdout });
		const timer = setTimeout(() => reject(new Error(`The OAuth server did not start: ${stderr}`)), 15_000);
		lines.once('line', (line) => {
			clearTimeout(timer);
			resolve(line);
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`The OAuth server exited (${code}): ${stderr}`));
		});
	});
	const { issuer, apiUrl } = JSON.parse(first) as { issuer: string; apiUrl: string };

	const post = async (path: string, body: unknown) =>
		await fetch(`${issuer}${path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});

	return {
		issuer,
		apiUrl,
		authUrl: `${issuer}/auth`,
		tokenUrl: `${issuer}/token`,
		stats: async () => await json<OAuthStats>(await fetch(`${issuer}/_test/stats`)),
		reset: async () => {
			await post('/_test/reset', {});
		},
		configure: async (next) => {
			await post('/_test/config', next);
		},
		revoke: async (token, client, hint) => {
			const response = await fetch(`${issuer}/token/revocation`, {
				method: 'POST',
				headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) }),
			});
			if (response.status !== 200) throw new Error(`Revocation answered ${response.status}: ${await response.text()}`);
		},
		introspect: async (token) => {
			const response = await fetch(`${issuer}/token/introspection`, {
				method: 'POST',
				headers: {
					authorization: basic({ clientId: 'protected-api', clientSecret: 'protected-api-secret' }),
					'content-type': 'application/x-www-form-urlencoded',
				},
				body: new URLSearchParams({ token }),
			});
			return await json<{ active: boolean }>(response);
		},
		token: async (form, client) => {
			const response = await fetch(`${issuer}/token`, {
				method: 'POST',
				headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams(form),
			});
			return { status: response.status, body: await json<Record<string, unknown>>(response) };
		},
		jwksUrl: `${issuer}/jwks`,
		introspectionUrl: `${issuer}/token/introspection`,
		accessToken: async (options = {}) => {
			const form: Record<string, string> = { grant_type: 'client_credentials' };
			if (options.scope) form.scope = options.scope;
			if (options.resource) form.resource = options.resource;
			const response = await fetch(`${issuer}/token`, {
				method: 'POST',
				headers: { authorization: basic(AS_CLIENT), 'content-type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams(form),
			});
			const body = await json<{ access_token?: string }>(response);
			if (response.status !== 200 || !body.access_token) {
				throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
			}
			return body.access_token;
		},
		publish: async (kid) => {
			await post(`/_test/publish/${encodeURIComponent(kid)}`, {});
		},
		close: async () => {
			if (child.exitCode !== null) return;
			const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
			child.kill('SIGTERM');
			await exited;
		},
	};
}

/** A minimal cookie jar: name=value per origin, enough for oidc-provider's interaction cookies. */
class CookieJar {
	private readonly cookies = new Map<string, Map<string, string>>();

	store(url: string, response: Response): void {
		const origin = new URL(url).origin;
		const jar = this.cookies.get(origin) ?? new Map<string, string>();
		for (const line of response.headers.getSetCookie()) {
			const [pair] = line.split(';');
			const at = pair.indexOf('=');
			const name = pair.slice(0, at).trim();
			const value = pair.slice(at + 1).trim();
			if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') jar.delete(name);
			else jar.set(name, value);
		}
		this.cookies.set(origin, jar);
	}

	header(url: string): string {
		const jar = this.cookies.get(new URL(url).origin);
		return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : '';
	}
}

export interface AuthorizationCodeCredential {
	grantType: 'pkce' | 'authorizationCode';
	authUrl: string;
	accessTokenUrl: string;
	clientId: string;
	clientSecret: string;
	scope: string;
	authQueryParameters: string;
	authentication: 'header' | 'body';
}

/**
 * What n8n's server does when a user clicks "Connect" on an authorization code
 * credential, with the browser replaced by redirects followed with a cookie jar: the
 * authorization URL (with a PKCE challenge for 'pkce'), the consent (auto-approved by the test
 * server), then the code exchange at n8n's callback. Answers the `oauthTokenData` n8n stores.
 */
export async function connectAuthorizationCode(
	credential: AuthorizationCodeCredential,
	options: { loginHint?: string; redirectUri?: string; /** Exchange the code without the PKCE verifier. */ omitVerifier?: boolean } = {},
): Promise<IDataObject> {
	const redirectUri = options.redirectUri ?? N8N_REDIRECT_URL;
	const clientOptions = {
		clientId: credential.clientId,
		clientSecret: credential.clientSecret,
		accessTokenUri: credential.accessTokenUrl,
		authorizationUri: credential.authUrl,
		redirectUri,
		scopes: credential.scope.split(/[\s,]+/).filter(Boolean),
		ignoreSSLIssues: false,
	};
	const state = randomBytes(16).toString('base64url');
	const query: Record<string, string> = Object.fromEntries(new URLSearchParams(credential.authQueryParameters));
	if (options.loginHint) query.login_hint = options.loginHint;
	let codeVerifier: string | undefined;
	if (credential.grantType === 'pkce') {
		codeVerifier = randomBytes(32).toString('base64url');
		query.code_challenge = createHash('sha256').update(codeVerifier).digest('base64url');
		query.code_challenge_method = 'S256';
	}
	const authorizationUrl = new ClientOAuth2({ ...clientOptions, state, query }).code.getUri();

	// The browser: follow redirects until the one to n8n's callback.
	const jar = new CookieJar();
	let url = authorizationUrl;
	for (let hop = 0; hop < 10 && !url.startsWith(redirectUri); hop++) {
		const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
		jar.store(url, response);
		const location = response.headers.get('location');
		if (response.status < 300 || response.status >= 400 || !location) {
			throw new Error(`The authorization step at ${url} answered ${response.status}: ${await response.text()}`);
		}
		url = new URL(location, url).toString();
	}
	if (!url.startsWith(redirectUri)) throw new Error(`Never redirected to ${redirectUri}`);

	// n8n 2.41's callback (OAuth2CredentialController.handleCallback): PKCE adds the verifier, and
	// 'body' moves the client from the Basic header into the form.
	const body: Record<string, string> = {};
	if (codeVerifier && !options.omitVerifier) body.code_verifier = codeVerifier;
	const exchangeOptions = { ...clientOptions, authentication: credential.authentication };
	if (credential.authentication === 'body') {
		body.client_id = credential.clientId;
		if (credential.clientSecret) body.client_secret = credential.clientSecret;
		exchangeOptions.clientSecret = '';
	}
	const tokenOptions = codeVerifier || credential.authentication === 'body' ? { body } : {};
	const token = await new ClientOAuth2({ ...exchangeOptions, state }).code.getToken(url, tokenOptions);
	const oauthTokenData: IDataObject = { ...token.data };
	const expiresIn = Number(token.data.expires_in);
	if (Number.isFinite(expiresIn) && expiresIn > 0) oauthTokenData.n8n_expires_at = String(Date.now() + expiresIn * 1000);
	return oauthTokenData;
}
