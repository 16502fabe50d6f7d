// A real OAuth 2.0 authorization server (oidc-provider) and a small protected API, both on
// 127.0.0.1, for the credential tests. oidc-provider is ESM-only and Jest runs the tests as
// CommonJS, so test/helpers/oauthServer.ts starts this script in a child process with the same
// Node and reads one JSON line from stdout: { issuer, apiUrl }.
//
// Authorization server (issuer = http://127.0.0.1:<port>):
//   /auth, /token, /token/introspection, /token/revocation, /jwks, discovery.
//   Clients (secret = "<client_id>-secret"):
//     crm-basic  client_secret_basic   authorization_code (PKCE optional), refresh_token, client_credentials
//     crm-post   client_secret_post    the same grants
//     crm-public none (public client)  authorization_code with PKCE required, refresh_token
//     protected-api client_secret_basic  no grants: the API's own identity for introspection
//   Redirect URI: n8n's, for an n8n at http://127.0.0.1:5678 (REDIRECT_URIS adds more, comma separated).
//   Consent is non-interactive: GET /interaction/<uid> logs in login_hint (default "alice") and
//   grants every requested scope; login_hint=deny answers access_denied.
//   Refresh tokens are issued for offline_access asked with prompt=consent (the library default).
//
// Protected API (apiUrl): any method on /api/...: Bearer token checked by RFC 7662 introspection
//   against the issuer; 401 invalid_token when inactive. Answers {"ok":true, sub, client_id, scope},
//   after ?delayMs=N milliseconds when asked.
//
// Inbound (the tokens a Profile Webhook Trigger in OAuth2 mode verifies):
//   client_credentials for crm-platform / crm-secret (Basic) with scopes profile:read profile:write;
//   introspector / introspector-secret may introspect any token. Without `resource` the access
//   token is opaque (introspection); with one it is a JWT (RFC 9068, typ at+jwt):
//     urn:profiles:api          RS256 (kid rs-1),      aud urn:profiles:api
//     urn:profiles:api:es256    ES256 (kid es-1),      aud urn:profiles:api
//     urn:profiles:api:rotated  RS256 (kid rs-rotated) aud urn:profiles:api, key unpublished at start
//     urn:profiles:api:hs256    HS256 with HS256_SECRET, aud urn:profiles:api
//     urn:profiles:api:short    RS256, lives 1 second,  aud urn:profiles:api
//     urn:other:api             RS256,                 aud urn:other:api
//
// Control (on the issuer port, under /_test):
//   GET  /_test/stats     token endpoint requests and outcomes per grant type, API answers,
//                         JWKS and introspection requests
//   POST /_test/reset     zero the counters
//   POST /_test/config    {"accessTokenTtl": seconds, "rotateRefreshToken": boolean}
//   POST /_test/publish/<kid>  add a held-back key to /jwks, as a key rotation would
import { once } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const settings = {
	accessTokenTtl: Number(process.env.ACCESS_TOKEN_TTL ?? 3600),
	rotateRefreshToken: process.env.ROTATE_REFRESH_TOKEN === 'true',
};

const emptyStats = () => ({
	/** Requests to /token by grant_type. */
	token: {},
	/** Successful answers by grant_type. */
	issued: {},
	/** Error answers by grant_type, then by OAuth error code. */
	refused: {},
	/** How token requests authenticated the client: basic (header), post (body) or none. */
	clientAuth: {},
	api: { ok: 0, unauthorized: 0 },
	introspections: 0,
	revocations: 0,
	jwks: 0,
});
let stats = emptyStats();
const bump = (table, key) => {
	table[key] = (table[key] ?? 0) + 1;
};

const authServer = createServer();
authServer.listen(0, HOST);
await once(authServer, 'listening');
const issuer = `http://${HOST}:${authServer.address().port}`;

const redirectUris = [
	'http://127.0.0.1:5678/rest/oauth2-credential/callback',
	'http://localhost:5678/rest/oauth2-credential/callback',
	...(process.env.REDIRECT_URIS ?? '').split(',').filter(Boolean),
];
const allGrants = ['authorization_code', 'refresh_token', 'client_credentials'];
const clientScope = 'openid offline_access profile api:read api:write';

const HS256_SECRET = process.env.HS256_SECRET ?? 'hs256-shared-secret-for-tests-0123456789abcdef';
function privateJwk(type, options, kid, alg) {
	const { privateKey } = generateKeyPairSync(type, options);
	return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
// test-rs256 first: ID tokens use it. The others sign the inbound JWT access tokens.
const keys = [
	privateJwk('rsa', { modulusLength: 2048 }, 'test-rs256', 'RS256'),
	privateJwk('rsa', { modulusLength: 2048 }, 'rs-1', 'RS256'),
	privateJwk('ec', { namedCurve: 'P-256' }, 'es-1', 'ES256'),
	privateJwk('rsa', { modulusLength: 2048 }, 'rs-rotated', 'RS256'),
];
const unpublished = new Set(['rs-rotated']);

const inboundScope = 'profile:read profile:write';
const resourceServers = {
	'urn:profiles:api': { audience: 'urn:profiles:api', jwt: { sign: { alg: 'RS256', kid: 'rs-1' } } },
	'urn:profiles:api:es256': { audience: 'urn:profiles:api', jwt: { sign: { alg: 'ES256', kid: 'es-1' } } },
	'urn:profiles:api:rotated': { audience: 'urn:profiles:api', jwt: { sign: { alg: 'RS256', kid: 'rs-rotated' } } },
	'urn:profiles:api:hs256': {
		audience: 'urn:profiles:api',
		jwt: { sign: { alg: 'HS256', key: Buffer.from(HS256_SECRET, 'utf8') } },
	},
	'urn:profiles:api:short': { audience: 'urn:profiles:api', accessTokenTTL: 1, jwt: { sign: { alg: 'RS256', kid: 'rs-1' } } },
	'urn:other:api': { audience: 'urn:other:api', jwt: { sign: { alg: 'RS256', kid: 'rs-1' } } },
};

const accounts = {
	alice: { sub: 'alice', email: 'alice@example.test', name: 'Alice Example' },
	bob: { sub: 'bob', email: 'bob@example.test', name: 'Bob Example' },
};

const provider = new Provider(issuer, {
	clients: [
		{
			client_id: 'crm-basic',
			client_secret: 'crm-basic-secret',
			token_endpoint_auth_method: 'client_secret_basic',
			grant_types: allGrants,
			response_types: ['code'],
			redirect_uris: redirectUris,
			scope: clientScope,
		},
		{
			client_id: 'crm-post',
			client_secret: 'crm-post-secret',
			token_endpoint_auth_method: 'client_secret_post',
			grant_types: allGrants,
			response_types: ['code'],
			redirect_uris: redirectUris,
			scope: clientScope,
		},
		{
			client_id: 'crm-public',
			token_endpoint_auth_method: 'none',
			grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'],
			redirect_uris: redirectUris,
			scope: clientScope,
		},
		{
			client_id: 'protected-api',
			client_secret: 'protected-api-secret',
			token_endpoint_auth_method: 'client_secret_basic',
			grant_types: [],
			response_types: [],
			redirect_uris: [],
		},
		{
			client_id: 'crm-platform',
			client_secret: 'crm-secret',
			grant_types: ['client_credentials'],
			response_types: [],
			redirect_uris: [],
			token_endpoint_auth_method: 'client_secret_basic',
			scope: inboundScope,
		},
		{
			client_id: 'introspector',
			client_secret: 'introspector-secret',
			grant_types: [],
			response_types: [],
			redirect_uris: [],
			token_endpoint_auth_method: 'client_secret_basic',
		},
	],
	jwks: { keys },
	scopes: ['openid', 'offline_access', 'profile', 'api:read', 'api:write', 'profile:read', 'profile:write'],
	claims: { openid: ['sub'], profile: ['name', 'email'] },
	features: {
		devInteractions: { enabled: false },
		clientCredentials: { enabled: true },
		introspection: { enabled: true },
		revocation: { enabled: true },
		// Only requests that name a resource get one (a JWT); others keep opaque tokens.
		resourceIndicators: {
			enabled: true,
			defaultResource: async (_ctx, _client, oneOf) => oneOf,
			useGrantedResource: async () => true,
			getResourceServerInfo: async (_ctx, resourceIndicator) => {
				const info = resourceServers[resourceIndicator];
				if (!info) throw new Provider.errors.InvalidTarget();
				return { scope: inboundScope, accessTokenTTL: 600, accessTokenFormat: 'jwt', ...info };
			},
		},
	},
	enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'HS256'] },
	ttl: {
		AccessToken: () => settings.accessTokenTtl,
		ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? settings.accessTokenTtl,
		AuthorizationCode: 60,
		IdToken: 3600,
		RefreshToken: 24 * 3600,
		Interaction: 600,
		Session: 3600,
		Grant: 24 * 3600,
	},
	// Rotation on demand; public clients always rotate, as by the library's default.
	rotateRefreshToken: (ctx) => settings.rotateRefreshToken || ctx.oidc.client.clientAuthMethod === 'none',
	interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
	findAccount: async (_ctx, sub) =>
		accounts[sub] ? { accountId: sub, claims: async () => accounts[sub] } : undefined,
	renderError: async (ctx, out) => {
		ctx.type = 'json';
		ctx.body = out;
	},
});
provider.proxy = false;

// Token endpoint bookkeeping: what was asked and what came of it, per grant type.
provider.use(async (ctx, next) => {
	await next();
	if (ctx.path === '/token' && ctx.method === 'POST') {
		const grant = ctx.oidc?.params?.grant_type ?? 'unknown';
		bump(stats.token, grant);
		// oidc-provider accepts a secret client either way, so the tests need to see which was used.
		const how = /^Basic /i.test(ctx.get('authorization'))
			? 'basic'
			: ctx.oidc?.body?.client_secret
				? 'post'
				: 'none';
		bump(stats.clientAuth, how);
		if (ctx.status >= 200 && ctx.status < 300) bump(stats.issued, grant);
		else {
			stats.refused[grant] ??= {};
			bump(stats.refused[grant], ctx.body?.error ?? String(ctx.status));
		}
	}
	if (ctx.path === '/token/introspection') stats.introspections++;
	if (ctx.path === '/token/revocation') stats.revocations++;
	if (ctx.path === '/jwks') {
		stats.jwks++;
		if (ctx.body && Array.isArray(ctx.body.keys)) {
			ctx.body = { keys: ctx.body.keys.filter((key) => !unpublished.has(key.kid)) };
		}
	}
});

// The non-interactive login and consent: what a user clicking "Allow" would do.
provider.use(async (ctx, next) => {
	const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
	if (!match || ctx.method !== 'GET') return next();
	const details = await provider.interactionDetails(ctx.req, ctx.res);
	const { prompt, params, session } = details;
	const who = String(params.login_hint ?? 'alice');
	ctx.respond = false;
	if (who === 'deny') {
		await provider.interactionFinished(
			ctx.req,
			ctx.res,
			{ error: 'access_denied', error_description: 'The user refused' },
			{ mergeWithLastSubmission: false },
		);
		return;
	}
	if (prompt.name === 'login') {
		await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: who } }, { mergeWithLastSubmission: false });
		return;
	}
	const grant = details.grantId
		? await provider.Grant.find(details.grantId)
		: new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
	if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
	if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
	for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
		grant.addResourceScope(indicator, scopes.join(' '));
	}
	const grantId = await grant.save();
	await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
});

const readJson = async (req) => {
	const chunks = [];
	for await (const chunk of req) chunks.push(chunk);
	const text = Buffer.concat(chunks).toString('utf8');
	return text ? JSON.parse(text) : {};
};
const answer = (res, status, body, headers = {}) => {
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(JSON.stringify(body));
};

const oidcHandler = provider.callback();
authServer.on('request', async (req, res) => {
	try {
		if (req.url === '/_test/stats' && req.method === 'GET') return answer(res, 200, stats);
		if (req.url === '/_test/reset' && req.method === 'POST') {
			stats = emptyStats();
			return answer(res, 200, stats);
		}
		const publish = /^\/_test\/publish\/(.+)$/.exec(req.url ?? '');
		if (publish && req.method === 'POST') {
			unpublished.delete(decodeURIComponent(publish[1]));
			return answer(res, 200, { published: publish[1] });
		}
		if (req.url === '/_test/config' && req.method === 'POST') {
			const body = await readJson(req);
			if (body.accessTokenTtl !== undefined) settings.accessTokenTtl = Number(body.accessTokenTtl);
			if (body.rotateRefreshToken !== undefined) settings.rotateRefreshToken = Boolean(body.rotateRefreshToken);
			return answer(res, 200, settings);
		}
	} catch (error) {
		return answer(res, 500, { error: String(error) });
	}
	oidcHandler(req, res);
});

// The protected API: a resource server that knows tokens only through introspection.
const apiBasic = `Basic ${Buffer.from('protected-api:protected-api-secret').toString('base64')}`;
const apiServer = createServer(async (req, res) => {
	for await (const _chunk of req) {
		// The body is not needed; reading it lets keep-alive connections be reused.
	}
	const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
	let token = { active: false };
	if (bearer) {
		const response = await fetch(`${issuer}/token/introspection`, {
			method: 'POST',
			headers: { authorization: apiBasic, 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ token: bearer, token_type_hint: 'access_token' }),
		});
		token = await response.json();
	}
	if (!token.active) {
		stats.api.unauthorized++;
		const description = bearer ? 'The access token is expired, revoked or unknown' : 'No bearer token';
		return answer(
			res,
			401,
			{ error: 'invalid_token', error_description: description },
			{ 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` },
		);
	}
	stats.api.ok++;
	// ?delayMs=N: a slower API, so that a test run spans several token lifetimes.
	const delayMs = Number(new URL(req.url ?? '/', 'http://api').searchParams.get('delayMs') ?? 0);
	if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, 5000)));
	return answer(res, 200, { ok: true, sub: token.sub, client_id: token.client_id, scope: token.scope });
});
apiServer.keepAliveTimeout = 5000;
apiServer.listen(0, HOST);
await once(apiServer, 'listening');

process.stdout.write(`${JSON.stringify({ issuer, apiUrl: `http://${HOST}:${apiServer.address().port}` })}\n`);

const stop = () => {
	authServer.closeAllConnections();
	apiServer.closeAllConnections();
	authServer.close();
	apiServer.close();
	process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent closes stdin (or dies): stop with it, so no server outlives its test run.
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
