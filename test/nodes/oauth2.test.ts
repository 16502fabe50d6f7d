/**
 * The Profile Webhook's OAuth 2.0 credentials against a real authorization server (oidc-provider
 * on 127.0.0.1, see test/helpers/oauthServer.child.mjs) and a protected API that checks every
 * bearer token by introspection. The node runs in n8n-core's real ExecuteContext, so the two
 * oAuth2Api-based credentials go through n8n-core's own OAuth2 code (requestOAuth2), and the
 * refresh-token credential through n8n's pre-authentication path.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ICredentialDataDecryptedObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { ProfileWebhookClientCredentialsOAuth2Api } from '../../credentials/ProfileWebhookClientCredentialsOAuth2Api.credentials';
import { ProfileWebhookOAuth2Api } from '../../credentials/ProfileWebhookOAuth2Api.credentials';
import { ProfileWebhookRefreshTokenOAuth2Api } from '../../credentials/ProfileWebhookRefreshTokenOAuth2Api.credentials';
import { resetRefreshTokenCache } from '../../lib/auth/refreshTokenExchange';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileWebhook } from '../../nodes/ProfileWebhook/ProfileWebhook.node';
import { runExecuteNode, TestCredentialsHelper } from '../helpers/n8n';
import {
	CLIENTS,
	connectAuthorizationCode,
	startOAuthServer,
	type AuthorizationCodeCredential,
	type OAuthServer,
	type OAuthStats,
} from '../helpers/oauthServer';

const TTL = 3;

const CC = 'profileWebhookClientCredentialsOAuth2Api';
const AC = 'profileWebhookOAuth2Api';
const RT = 'profileWebhookRefreshTokenOAuth2Api';
const AUTHENTICATION: Record<string, string> = {
	[CC]: 'oAuth2ClientCredentials',
	[AC]: 'oAuth2AuthorizationCode',
	[RT]: 'oAuth2RefreshToken',
};

let server: OAuthServer;

beforeAll(async () => {
	server = await startOAuthServer();
});
afterAll(async () => server?.close());
beforeEach(async () => {
	resetRefreshTokenCache();
	await server.configure({ accessTokenTtl: 3600, rotateRefreshToken: false });
	await server.reset();
});

async function profileItems(count: number): Promise<INodeExecutionData[]> {
	const store = getProfileEngine();
	const items: INodeExecutionData[] = [];
	for (let i = 0; i < count; i++) {
		const profile = await store.create({ properties: { email: [`${randomUUID()}@example.test`] } });
		items.push({ json: { ...profile } as unknown as INodeExecutionData['json'] });
	}
	return items;
}

/** n8n's credential store for one test, holding one credential of `type`. */
function credentialStore(type: string, data: ICredentialDataDecryptedObject, name = 'CRM') {
	const helper = new TestCredentialsHelper([
		new ProfileWebhookClientCredentialsOAuth2Api(),
		new ProfileWebhookOAuth2Api(),
		new ProfileWebhookRefreshTokenOAuth2Api(),
	]);
	const id = randomUUID();
	helper.add({ type, id, name, data });
	return {
		helper,
		id,
		/** What n8n holds for the credential now. */
		stored: () => helper.byId.get(id)!.data,
		/** Runs the Profile Webhook with this credential, as saved now, over `items`. */
		run: async (items: INodeExecutionData[], options: INodeParameters = {}, query = '') => {
			const { outputs } = await runExecuteNode({
				nodeType: new ProfileWebhook(),
				parameters: {
					triggerOn: 'always',
					method: 'POST',
					url: `${server.apiUrl}/api/contacts${query}`,
					body: '{"email": "{{email.0}}"}',
					authentication: AUTHENTICATION[type],
					options: { retries: 0, ...options },
				},
				items,
				credentials: [{ type, id, name, data: helper.byId.get(id)!.data }],
				credentialsHelper: helper,
				mode: 'trigger',
			});
			return { sent: outputs[0], skipped: outputs[1] };
		},
	};
}

const clientCredentials = (client: { clientId: string; clientSecret: string }, authentication: 'header' | 'body') => ({
	grantType: 'clientCredentials',
	accessTokenUrl: server.tokenUrl,
	clientId: client.clientId,
	clientSecret: client.clientSecret,
	scope: 'api:write',
	authentication,
});

const authorizationCode = (scope = 'openid offline_access api:write'): AuthorizationCodeCredential => ({
	// The credential's own defaults: PKCE on, the client in the Basic header.
	grantType: new ProfileWebhookOAuth2Api().properties.find((p) => p.name === 'grantType')!.default as 'pkce',
	authUrl: server.authUrl,
	accessTokenUrl: server.tokenUrl,
	clientId: CLIENTS.basic.clientId,
	clientSecret: CLIENTS.basic.clientSecret,
	scope,
	// oidc-provider issues a refresh token for offline_access only with prompt=consent.
	authQueryParameters: 'prompt=consent',
	authentication: 'header',
});

/** A refresh token handed out by the server: what a user pastes into the refresh-token credential. */
async function handedOutRefreshToken(): Promise<string> {
	const tokens = await connectAuthorizationCode(authorizationCode());
	expect(typeof tokens.refresh_token).toBe('string');
	return tokens.refresh_token as string;
}

const refreshTokenCredential = (refreshToken: string, client = CLIENTS.basic, authentication = 'header') => ({
	tokenUrl: server.tokenUrl,
	clientId: client.clientId,
	clientSecret: client.clientSecret,
	refreshToken,
	authentication,
	scope: '',
	sessionCheck: '',
	accessToken: '',
	expiresAt: 0,
});

const count = (stats: OAuthStats, grant: string) => stats.token[grant] ?? 0;

describe('client credentials (n8n-core OAuth2, grant type hidden)', () => {
	it('gets a token with the client in the Basic header, stores it, and reaches the API with it', async () => {
		const credential = credentialStore(CC, clientCredentials(CLIENTS.basic, 'header'));
		const { sent } = await credential.run(await profileItems(3));

		expect(sent).toHaveLength(3);
		expect(sent.map((item) => (item.json.response as { status: number; body: { client_id: string } }).body.client_id)).toEqual([
			'crm-basic',
			'crm-basic',
			'crm-basic',
		]);
		const stats = await server.stats();
		expect(stats.issued).toEqual({ client_credentials: 1 });
		expect(stats.clientAuth).toEqual({ basic: 1 });
		expect(stats.api).toEqual({ ok: 3, unauthorized: 0 });
		const stored = credential.stored().oauthTokenData as { access_token: string; n8n_expires_at: string };
		expect((await server.introspect(stored.access_token)).active).toBe(true);
	});

	it('sends the client in the body (client_secret_post) when the credential says so', async () => {
		const credential = credentialStore(CC, clientCredentials(CLIENTS.post, 'body'));
		const { sent } = await credential.run(await profileItems(2));
		expect(sent).toHaveLength(2);
		expect((sent[0].json.response as { body: { client_id: string } }).body.client_id).toBe('crm-post');
		const stats = await server.stats();
		expect(stats.issued).toEqual({ client_credentials: 1 });
		expect(stats.clientAuth).toEqual({ post: 1 });
	});

	it('a wrong client secret fails once, with a message naming the credential and what failed, and no secret', async () => {
		const secret = 'wrong-secret-3f9a1c';
		const credential = credentialStore(CC, clientCredentials({ ...CLIENTS.basic, clientSecret: secret }, 'header'), 'CRM machine access');
		const run = credential.run(await profileItems(20), { retries: 3, concurrency: 5 });

		await expect(run).rejects.toThrow(
			/credential "CRM machine access" \(Profile Webhook Client Credentials OAuth2 API\) could not get an access token \(invalid_client: .*client ID, the client secret/,
		);
		const error = (await run.catch((e: unknown) => e)) as Error & { description?: string };
		expect(`${error.message} ${error.description ?? ''}`).not.toContain(secret);
		const stats = await server.stats();
		// Not retried, and the other items did not ask again: one token request in all.
		expect(stats.token).toEqual({ client_credentials: 1 });
		expect(stats.api).toEqual({ ok: 0, unauthorized: 0 });
	});

	it('an expired or revoked access token: n8n-core gets a new one on the 401 and the item goes through', async () => {
		const credential = credentialStore(CC, clientCredentials(CLIENTS.basic, 'header'));
		await credential.run(await profileItems(1));
		const first = (credential.stored().oauthTokenData as { access_token: string }).access_token;
		await server.revoke(first, CLIENTS.basic);
		expect((await server.introspect(first)).active).toBe(false);

		const { sent } = await credential.run(await profileItems(1));
		expect(sent).toHaveLength(1);
		const second = (credential.stored().oauthTokenData as { access_token: string }).access_token;
		expect(second).not.toBe(first);
		const stats = await server.stats();
		expect(stats.token).toEqual({ client_credentials: 2 });
		expect(stats.api).toEqual({ ok: 2, unauthorized: 1 });
	});
});

describe('authorization code with PKCE (n8n-core OAuth2)', () => {
	it('connects without a browser (consent scripted) and the node reaches the API as the user', async () => {
		const tokens = await connectAuthorizationCode(authorizationCode());
		expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
		const credential = credentialStore(AC, { ...authorizationCode(), oauthTokenData: tokens });

		const { sent } = await credential.run(await profileItems(2));
		expect(sent).toHaveLength(2);
		expect((sent[0].json.response as { body: { sub: string } }).body.sub).toBe('alice');
		const stats = await server.stats();
		expect(stats.issued).toEqual({ authorization_code: 1 });
		expect(stats.api).toEqual({ ok: 2, unauthorized: 0 });
	});

	it('the code exchange without the PKCE verifier is refused: the challenge was sent and is enforced', async () => {
		// For a confidential client PKCE is optional, so this fails only if the flow sent a challenge.
		const refused = await connectAuthorizationCode(authorizationCode(), { omitVerifier: true }).catch((e: unknown) => e);
		expect(refused).toMatchObject({ body: { error: 'invalid_grant' } });
		const plain = await connectAuthorizationCode({ ...authorizationCode(), grantType: 'authorizationCode' }, { omitVerifier: true });
		expect(typeof plain.access_token).toBe('string');
	});

	it('when the access token expires, n8n-core refreshes it with the refresh token, once, and stores it', async () => {
		await server.configure({ accessTokenTtl: 2 });
		const credential = credentialStore(AC, { ...authorizationCode(), oauthTokenData: await connectAuthorizationCode(authorizationCode()) });
		await credential.run(await profileItems(1));
		const before = credential.stored().oauthTokenData as { access_token: string };
		await sleep(2100);

		const { sent } = await credential.run(await profileItems(3), { concurrency: 3 });
		expect(sent).toHaveLength(3);
		const after = credential.stored().oauthTokenData as { access_token: string; n8n_expires_at: string };
		expect(after.access_token).not.toBe(before.access_token);
		expect(Number(after.n8n_expires_at)).toBeGreaterThan(Date.now());
		const stats = await server.stats();
		expect(count(stats, 'refresh_token')).toBe(1);
		// n8n-core refreshes only after the API refused the expired token.
		expect(stats.api).toEqual({ ok: 4, unauthorized: 1 });
	});

	it('a credential never connected (n8n stores oauthTokenData: {}): "connect the account first" at once, no request, no retry', async () => {
		const credential = credentialStore(AC, { ...authorizationCode(), oauthTokenData: {} }, 'CRM as Alice');
		await expect(credential.run(await profileItems(2), { retries: 3 })).rejects.toThrow(
			/"CRM as Alice" is not connected: connect the account first/,
		);
		const stats = await server.stats();
		expect(stats.api).toEqual({ ok: 0, unauthorized: 0 });
		expect(stats.token).toEqual({});
	});

	it('a public PKCE client (no client secret) can be saved, connects, sends, and refreshes with its client ID alone', async () => {
		const properties = new ProfileWebhookOAuth2Api().properties;
		expect(properties.find((p) => p.name === 'clientSecret')?.required).toBeFalsy();
		expect(properties.find((p) => p.name === 'scope')?.required).toBe(true);
		await server.configure({ accessTokenTtl: 2 });
		const publicClient = { ...authorizationCode(), clientId: 'crm-public', clientSecret: '' };
		const credential = credentialStore(AC, { ...publicClient, oauthTokenData: await connectAuthorizationCode(publicClient) });
		expect((await credential.run(await profileItems(1))).sent[0].json.response).toMatchObject({ status: 200 });
		await sleep(2100);
		const { sent } = await credential.run(await profileItems(2), { concurrency: 2 });
		expect(sent.map((item) => (item.json.response as { status: number }).status)).toEqual([200, 200]);
		const stats = await server.stats();
		expect(count(stats, 'refresh_token')).toBe(1);
		expect(stats.clientAuth.none).toBeGreaterThanOrEqual(2);
	});

	it('a revoked access token with no refresh token: a clear error asking to reconnect', async () => {
		const tokens = await connectAuthorizationCode(authorizationCode('openid api:write'));
		expect(tokens.refresh_token).toBeUndefined();
		await server.revoke(tokens.access_token as string, CLIENTS.basic);
		const credential = credentialStore(AC, { ...authorizationCode('openid api:write'), oauthTokenData: tokens }, 'CRM as Alice');

		await expect(credential.run(await profileItems(1), { retries: 3 })).rejects.toThrow(
			/credential "CRM as Alice" \(Profile Webhook OAuth2 API\).*no refresh token.*reconnect/i,
		);
		expect((await server.stats()).api).toEqual({ ok: 0, unauthorized: 1 });
	});

	it('a revoked grant (refresh token revoked): n8n-core says the credential needs to be reconnected', async () => {
		const tokens = await connectAuthorizationCode(authorizationCode());
		await server.revoke(tokens.refresh_token as string, CLIENTS.basic, 'refresh_token');
		const credential = credentialStore(AC, { ...authorizationCode(), oauthTokenData: tokens }, 'CRM as Alice');

		await expect(credential.run(await profileItems(2), { retries: 3 })).rejects.toThrow(
			/credential "CRM as Alice".*needs to be reconnected/,
		);
		const stats = await server.stats();
		expect(stats.refused).toEqual({ refresh_token: { invalid_grant: 1 } });
	});
});

describe('refresh token credential (preAuthentication)', () => {
	it('exchanges the pasted refresh token and refreshes ahead of expiry: no request ever meets an expired token', async () => {
		await server.configure({ accessTokenTtl: TTL });
		const credential = credentialStore(RT, refreshTokenCredential(await handedOutRefreshToken()));
		await server.reset();

		const started = Date.now();
		for (let run = 0; run < 8; run++) {
			const { sent } = await credential.run(await profileItems(2));
			expect(sent).toHaveLength(2);
			await sleep(400);
		}
		const elapsed = (Date.now() - started) / 1000;
		const stats = await server.stats();
		expect(stats.api).toEqual({ ok: 16, unauthorized: 0 });
		// A token is used for its lifetime less the margin (1.5 s of 3 s), then replaced.
		expect(count(stats, 'refresh_token')).toBeGreaterThanOrEqual(Math.floor(elapsed / TTL) + 1);
		expect(count(stats, 'refresh_token')).toBeLessThanOrEqual(Math.ceil(elapsed / (TTL / 2)) + 1);
		expect(stats.refused).toEqual({});
		expect(credential.stored()).toMatchObject({ sessionCheck: '', accessToken: expect.any(String) });
		expect(Number(credential.stored().expiresAt)).toBeGreaterThan(started);
	});

	it('with rotation on, each new refresh token is stored and used; the old one is refused by the server', async () => {
		await server.configure({ accessTokenTtl: TTL, rotateRefreshToken: true });
		const original = await handedOutRefreshToken();
		const credential = credentialStore(RT, refreshTokenCredential(original));
		await server.reset();

		const seen = [original];
		for (let run = 0; run < 3; run++) {
			const { sent } = await credential.run(await profileItems(1));
			expect(sent).toHaveLength(1);
			seen.push(String(credential.stored().refreshToken));
			if (run < 2) await sleep(1600); // past the refresh point (lifetime less the margin)
		}
		// Three exchanges, each answered with a new refresh token that the credential kept.
		expect(count(await server.stats(), 'refresh_token')).toBe(3);
		expect(new Set(seen).size).toBe(4);
		const storedRefreshTokens = credential.helper.updates.map((update) => update.data.refreshToken);
		expect(storedRefreshTokens).toEqual(expect.arrayContaining(seen.slice(1)));
		expect((await server.stats()).refused).toEqual({});

		// The server refuses the replaced refresh token (and, as reuse detection, ends the grant).
		const reuse = await server.token({ grant_type: 'refresh_token', refresh_token: original }, CLIENTS.basic);
		expect(reuse).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
	});

	it('concurrent executions in one process share one exchange', async () => {
		const credential = credentialStore(RT, refreshTokenCredential(await handedOutRefreshToken()));
		await server.reset();
		const items = await profileItems(5);
		const runs = await Promise.all(Array.from({ length: 6 }, async () => await credential.run(items, { concurrency: 5 })));
		expect(runs.map((r) => r.sent.length)).toEqual([5, 5, 5, 5, 5, 5]);
		const stats = await server.stats();
		expect(stats.token).toEqual({ refresh_token: 1 });
		expect(stats.api).toEqual({ ok: 30, unauthorized: 0 });
	});

	it('a revoked access token: the 401 makes the credential use its refresh token, which died with the grant: a clear error', async () => {
		// oidc-provider revokes every token of the grant with the access token (RFC 7009 allows it).
		const credential = credentialStore(RT, refreshTokenCredential(await handedOutRefreshToken()), 'CRM refresh token');
		await credential.run(await profileItems(1));
		await server.revoke(String(credential.stored().accessToken), CLIENTS.basic);
		await server.reset();

		await expect(credential.run(await profileItems(1), { retries: 3 })).rejects.toThrow(
			/credential "CRM refresh token" .*invalid_grant.*Renew the refresh token/,
		);
		const stats = await server.stats();
		// The stored token was still fresh by the clock: it was sent, refused, and only then exchanged.
		expect(stats.api).toEqual({ ok: 0, unauthorized: 1 });
		expect(stats.refused).toEqual({ refresh_token: { invalid_grant: 1 } });
	});

	it('a revoked refresh token: invalid_grant, once, as an error naming the credential and asking to renew the refresh token', async () => {
		const refreshToken = await handedOutRefreshToken();
		await server.revoke(refreshToken, CLIENTS.basic, 'refresh_token');
		const credential = credentialStore(RT, refreshTokenCredential(refreshToken), 'CRM refresh token');
		await server.reset();

		const run = credential.run(await profileItems(10), { retries: 3 });
		await expect(run).rejects.toThrow(
			/credential "CRM refresh token" \(Profile Webhook Refresh Token OAuth2 API\) could not get an access token \(invalid_grant: .*\)\..*Renew the refresh token/,
		);
		const error = (await run.catch((e: unknown) => e)) as Error;
		expect(error.message).not.toContain(refreshToken);
		expect(error.message).not.toContain(CLIENTS.basic.clientSecret);
		expect((await server.stats()).token).toEqual({ refresh_token: 1 });
	});

	it('works for a client that authenticates in the body', async () => {
		const tokens = await connectAuthorizationCode({
			...authorizationCode(),
			grantType: 'authorizationCode',
			clientId: CLIENTS.post.clientId,
			clientSecret: CLIENTS.post.clientSecret,
			authentication: 'body',
		});
		const credential = credentialStore(RT, refreshTokenCredential(tokens.refresh_token as string, CLIENTS.post, 'body'));
		const { sent } = await credential.run(await profileItems(1));
		expect((sent[0].json.response as { body: { client_id: string } }).body.client_id).toBe('crm-post');
	});
});

describe('token requests for a run of 500 items', () => {
	// The node's default concurrency, and an API that answers in 40 ms: the run spans two token lifetimes.
	const CONCURRENCY = 5;
	const API_DELAY = '?delayMs=40';
	const figures: string[] = [];
	afterAll(() => {
		console.log(
			`Token requests for 500 items, ${CONCURRENCY} in parallel, access tokens living ${TTL} s:\n${figures.join('\n')}`,
		);
	});

	async function measure(
		label: string,
		grant: string,
		credential: ReturnType<typeof credentialStore>,
	): Promise<{ tokenRequests: number; seconds: number; unauthorized: number }> {
		const items = await profileItems(500);
		await server.reset();
		const started = Date.now();
		const { sent } = await credential.run(items, { concurrency: CONCURRENCY }, API_DELAY);
		const seconds = (Date.now() - started) / 1000;
		expect(sent).toHaveLength(500);
		const stats = await server.stats();
		const tokenRequests = count(stats, grant);
		figures.push(
			`  ${label}: ${tokenRequests} token requests (${grant}) in ${seconds.toFixed(1)} s = ${Math.ceil(seconds / TTL)} token lifetimes; ${stats.api.unauthorized} requests met an expired token`,
		);
		expect(Object.keys(stats.token)).toEqual([grant]);
		expect(stats.api.ok).toBe(500);
		return { tokenRequests, seconds, unauthorized: stats.api.unauthorized };
	}

	beforeEach(async () => server.configure({ accessTokenTtl: TTL }));

	it('client credentials: one token per token lifetime', async () => {
		const { tokenRequests, seconds } = await measure('client credentials', 'client_credentials', credentialStore(CC, clientCredentials(CLIENTS.basic, 'header')));
		expect(tokenRequests).toBeLessThanOrEqual(Math.ceil(seconds / TTL) + 1);
	});

	it('authorization code: one refresh per token lifetime', async () => {
		const credential = credentialStore(AC, { ...authorizationCode(), oauthTokenData: await connectAuthorizationCode(authorizationCode()) });
		const { tokenRequests, seconds } = await measure('authorization code (refresh_token grant)', 'refresh_token', credential);
		expect(tokenRequests).toBeLessThanOrEqual(Math.ceil(seconds / TTL) + 1);
	});

	it('refresh token: one exchange per token lifetime less the margin, never an expired token', async () => {
		await server.configure({ accessTokenTtl: TTL, rotateRefreshToken: true });
		const credential = credentialStore(RT, refreshTokenCredential(await handedOutRefreshToken()));
		const { tokenRequests, seconds, unauthorized } = await measure('refresh token (rotation on)', 'refresh_token', credential);
		expect(unauthorized).toBe(0);
		expect(tokenRequests).toBeLessThanOrEqual(Math.ceil(seconds / (TTL / 2)) + 1);
	});
});
