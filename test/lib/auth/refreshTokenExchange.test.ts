/**
 * The refresh-token grant of `profileWebhookRefreshTokenOAuth2Api`, against a real authorization
 * server (oidc-provider on 127.0.0.1). Time is injected (`now`) where a test is about when a token
 * counts as expired, so these run in milliseconds; the node tests show the same with real clocks.
 */
import {
	ensureAccessToken,
	refreshMargin,
	resetRefreshTokenCache,
	RefreshTokenError,
	type RefreshTokenCredentials,
	type TokenHttp,
} from '../../../lib/auth/refreshTokenExchange';
import { findCredentialFailure } from '../../../lib/auth/credentialFailure';
import { CLIENTS, connectAuthorizationCode, startOAuthServer, type OAuthServer } from '../../helpers/oauthServer';

let server: OAuthServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterAll(async () => server?.close());
beforeEach(async () => {
	resetRefreshTokenCache();
	await server.configure({ accessTokenTtl: 3600, rotateRefreshToken: false });
});

/** What the credential does with n8n's httpRequest, with fetch. */
const http: TokenHttp = async ({ url, headers, body }) => {
	const response = await fetch(url, { method: 'POST', headers, body });
	const text = await response.text();
	try {
		return { status: response.status, body: JSON.parse(text) as unknown };
	} catch {
		return { status: response.status, body: { error: 'invalid_response', error_description: text.slice(0, 200) } };
	}
};

async function refreshTokenFor(client: { clientId: string; clientSecret: string }): Promise<string> {
	const tokens = await connectAuthorizationCode({
		grantType: 'pkce',
		authUrl: server.authUrl,
		accessTokenUrl: server.tokenUrl,
		clientId: client.clientId,
		clientSecret: client.clientSecret,
		scope: 'openid offline_access api:write',
		authQueryParameters: 'prompt=consent',
		authentication: 'header',
	});
	return tokens.refresh_token as string;
}

const credentials = (refreshToken: string, more: Partial<RefreshTokenCredentials> = {}): RefreshTokenCredentials => ({
	tokenUrl: server.tokenUrl,
	clientId: CLIENTS.basic.clientId,
	clientSecret: CLIENTS.basic.clientSecret,
	clientAuthentication: 'header',
	refreshToken,
	...more,
});

describe('refreshMargin', () => {
	it('is a tenth of the lifetime, at least 2 s, at most 60 s, and never more than half the lifetime', () => {
		expect(refreshMargin(3600)).toBe(60);
		expect(refreshMargin(300)).toBe(30);
		expect(refreshMargin(10)).toBe(2);
		expect(refreshMargin(3)).toBe(1.5);
		expect(refreshMargin(2)).toBe(1);
	});
});

describe('ensureAccessToken against a real token endpoint', () => {
	it('exchanges the refresh token, then reuses the access token until the margin before expiry', async () => {
		const stored = credentials(await refreshTokenFor(CLIENTS.basic));
		await server.reset();
		const t0 = Date.now();
		const first = await ensureAccessToken(stored, http, { now: () => t0 });
		expect((await server.introspect(first.accessToken)).active).toBe(true);
		// expires_in 3600 counted from before the request, less 60 s.
		expect(first.expiresAt).toBe(t0 + 3540 * 1000);

		const saved = { ...stored, accessToken: first.accessToken, expiresAt: first.expiresAt };
		resetRefreshTokenCache(); // as a new process would, from what n8n stored
		expect(await ensureAccessToken(saved, http, { now: () => first.expiresAt - 1 })).toEqual(first);
		expect((await server.stats()).token).toEqual({ refresh_token: 1 });

		const second = await ensureAccessToken(saved, http, { now: () => first.expiresAt });
		expect(second.accessToken).not.toBe(first.accessToken);
		expect((await server.stats()).token).toEqual({ refresh_token: 2 });
	});

	it('concurrent callers share one exchange', async () => {
		const stored = credentials(await refreshTokenFor(CLIENTS.basic));
		await server.reset();
		const results = await Promise.all(Array.from({ length: 10 }, async () => await ensureAccessToken(stored, http)));
		expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
		expect((await server.stats()).token).toEqual({ refresh_token: 1 });
	});

	it('with rotation, a stale stored copy never spends the replaced refresh token again', async () => {
		await server.configure({ rotateRefreshToken: true });
		const original = await refreshTokenFor(CLIENTS.basic);
		const stale = credentials(original);
		await server.reset();
		const t0 = Date.now();
		const first = await ensureAccessToken(stale, http, { now: () => t0 });
		expect(first.refreshToken).not.toBe(original);

		// A request that loaded the credential before the exchange was stored gets the new token...
		expect(await ensureAccessToken(stale, http, { now: () => t0 })).toEqual(first);
		// ...and when that one expires, the exchange uses the rotated refresh token (the server would
		// answer invalid_grant for the original, and revoke the grant).
		const second = await ensureAccessToken(stale, http, { now: () => first.expiresAt });
		expect(second.refreshToken).not.toBe(first.refreshToken);
		const stats = await server.stats();
		expect(stats.token).toEqual({ refresh_token: 2 });
		expect(stats.refused).toEqual({});
	});

	it('afterRefusal: the access token the API refused is replaced even though it looks fresh', async () => {
		const stored = credentials(await refreshTokenFor(CLIENTS.basic));
		const first = await ensureAccessToken(stored, http);
		const saved = { ...stored, accessToken: first.accessToken, expiresAt: first.expiresAt };
		const again = await ensureAccessToken(saved, http, { afterRefusal: true });
		expect(again.accessToken).not.toBe(first.accessToken);
	});

	it('a public client (no secret) identifies itself in the form, even with "header" chosen', async () => {
		const refreshToken = await refreshTokenFor({ clientId: 'crm-public', clientSecret: '' });
		await server.reset();
		const tokens = await ensureAccessToken(
			credentials(refreshToken, { clientId: 'crm-public', clientSecret: '', clientAuthentication: 'header' }),
			http,
		);
		expect((await server.introspect(tokens.accessToken)).active).toBe(true);
		// oidc-provider always rotates a public client's refresh token.
		expect(tokens.refreshToken).not.toBe(refreshToken);
		expect((await server.stats()).clientAuth).toEqual({ none: 1 });
	});

	it('sends the client in the body when asked', async () => {
		const refreshToken = await refreshTokenFor(CLIENTS.basic);
		await server.reset();
		await ensureAccessToken(credentials(refreshToken, { clientAuthentication: 'body' }), http);
		expect((await server.stats()).clientAuth).toEqual({ post: 1 });
	});

	it('a refused refresh token is an invalid_grant RefreshTokenError that says to renew it', async () => {
		const refreshToken = await refreshTokenFor(CLIENTS.basic);
		await server.revoke(refreshToken, CLIENTS.basic, 'refresh_token');
		const error = await ensureAccessToken(credentials(refreshToken), http).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RefreshTokenError);
		expect(error).toMatchObject({ oauthError: 'invalid_grant', tokenEndpointStatus: 400 });
		expect((error as Error).message).toMatch(/"Profile Webhook Refresh Token OAuth2 API" credential .*renew the refresh token/);
		expect((error as Error).message).not.toContain(refreshToken);
		expect(findCredentialFailure(error)).toMatchObject({ oauthError: 'invalid_grant', reconnect: true });
	});

	it('a wrong client secret is invalid_client, a credential failure without reconnecting', async () => {
		const refreshToken = await refreshTokenFor(CLIENTS.basic);
		const error = await ensureAccessToken(credentials(refreshToken, { clientSecret: 'nope' }), http).catch((e: unknown) => e);
		expect(error).toMatchObject({ oauthError: 'invalid_client', tokenEndpointStatus: 401 });
		expect(findCredentialFailure(error)).toMatchObject({ oauthError: 'invalid_client', reconnect: false });
	});

	it('a token endpoint that fails (5xx, not JSON) is an error worth retrying, not a credential failure', async () => {
		const failing: TokenHttp = async () => ({ status: 503, body: { error: 'invalid_response', error_description: 'Service Unavailable' } });
		const error = await ensureAccessToken(credentials('rt'), failing).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RefreshTokenError);
		expect(findCredentialFailure(error)).toBeUndefined();
		// The failed exchange is not cached: the next call tries again.
		const ok: TokenHttp = async () => ({ status: 200, body: { access_token: 'a', expires_in: 60 } });
		expect((await ensureAccessToken(credentials('rt'), ok)).accessToken).toBe('a');
	});
});
