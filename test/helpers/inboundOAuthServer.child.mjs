// A real OAuth 2.0 authorization server (panva's oidc-provider) on 127.0.0.1, issuing the access
// tokens a Profile Webhook Trigger in OAuth2 mode has to verify. Started as a child process by
// test/helpers/inboundOAuthServer.ts; prints one JSON line {"url": ...} once it listens.
//
// What it offers:
// - client_credentials for `crm-platform` / `crm-secret` (Basic auth) with scopes
//   `profile:read profile:write`; `introspector` / `introspector-secret` may introspect any token.
// - Opaque access tokens (no `resource`), checked at /token/introspection.
// - JWT access tokens (RFC 9068, typ at+jwt) when a `resource` is sent:
//     urn:profiles:api          RS256 (kid rs-1),      aud urn:profiles:api
//     urn:profiles:api:es256    ES256 (kid es-1),      aud urn:profiles:api
//     urn:profiles:api:rotated  RS256 (kid rs-rotated) aud urn:profiles:api, key unpublished at start
//     urn:profiles:api:hs256    HS256 with HS256_SECRET, aud urn:profiles:api
//     urn:profiles:api:short    RS256, lives 1 second,  aud urn:profiles:api
//     urn:other:api             RS256,                 aud urn:other:api
// - Test controls: GET /__control/stats (requests per endpoint), POST /__control/publish/<kid>
//   (adds a held-back key to /jwks, as a key rotation would).
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

export const HS256_SECRET = process.env.HS256_SECRET ?? 'hs256-shared-secret-for-tests-0123456789abcdef';

function privateJwk(type, options, kid, alg) {
	const { privateKey } = generateKeyPairSync(type, options);
	return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const keys = [
	privateJwk('rsa', { modulusLength: 2048 }, 'rs-1', 'RS256'),
	privateJwk('ec', { namedCurve: 'P-256' }, 'es-1', 'ES256'),
	privateJwk('rsa', { modulusLength: 2048 }, 'rs-rotated', 'RS256'),
];
const unpublished = new Set(['rs-rotated']);
const stats = { jwks: 0, introspection: 0, token: 0 };

const scope = 'profile:read profile:write';
const resourceServers = {
	'urn:profiles:api': { audience: 'urn:profiles:api', jwt: { sign: { alg: 'RS256', kid: 'rs-1' } } },
	'urn:profiles:api:es256': { audience: 'urn:profiles:api', jwt: { sign: { alg: 'ES256', kid: 'es-1' } } },
	'urn:profiles:api:rotated': { audience: 'urn:profiles:api', jwt: { sign: { alg: 'RS256', kid: 'rs-rotated' } } },
	'urn:profiles:api:hs256': {
		audience: 'urn:profiles:api',
		jwt: { sign: { alg: 'HS256', key: Buffer.from(HS256_SECRET, 'utf8') } },
	},
	'urn:profiles:api:short': {
		audience: 'urn:profiles:api',
		accessTokenTTL: 1,
		jwt: { sign: { alg: 'RS256', kid: 'rs-1' } },
	},
	'urn:other:api': { audience: 'urn:other:api', jwt: { sign: { alg: 'RS256', kid: 'rs-1' } } },
};

const server = createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
	jwks: { keys },
	clients: [
		{
			client_id: 'crm-platform',
			client_secret: 'crm-secret',
			grant_types: ['client_credentials'],
			response_types: [],
			redirect_uris: [],
			token_endpoint_auth_method: 'client_secret_basic',
			scope,
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
	scopes: ['profile:read', 'profile:write'],
	ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600 },
	features: {
		devInteractions: { enabled: false },
		clientCredentials: { enabled: true },
		introspection: { enabled: true },
		revocation: { enabled: true },
		resourceIndicators: {
			enabled: true,
			defaultResource: async (_ctx, _client, oneOf) => oneOf,
			useGrantedResource: async () => true,
			getResourceServerInfo: async (_ctx, resourceIndicator) => {
				const info = resourceServers[resourceIndicator];
				if (!info) throw new Provider.errors.InvalidTarget();
				return { scope, accessTokenTTL: 600, accessTokenFormat: 'jwt', ...info };
			},
		},
	},
	enabledJWA: {
		idTokenSigningAlgValues: ['RS256', 'ES256', 'HS256'],
	},
	renderError: async (ctx, out) => {
		ctx.type = 'json';
		ctx.body = out;
	},
});

provider.use(async (ctx, next) => {
	if (ctx.path === '/__control/stats') {
		ctx.body = stats;
		return;
	}
	const publish = /^\/__control\/publish\/(.+)$/.exec(ctx.path);
	if (publish && ctx.method === 'POST') {
		unpublished.delete(decodeURIComponent(publish[1]));
		ctx.body = { published: publish[1] };
		return;
	}
	if (ctx.path === '/jwks') stats.jwks += 1;
	if (ctx.path === '/token/introspection') stats.introspection += 1;
	if (ctx.path === '/token') stats.token += 1;
	await next();
	if (ctx.path === '/jwks' && ctx.body && Array.isArray(ctx.body.keys)) {
		ctx.body = { keys: ctx.body.keys.filter((key) => !unpublished.has(key.kid)) };
	}
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ url: issuer })}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test process owns this one: when it goes away (stdin closes), so does the server.
process.stdin.on('end', stop);
process.stdin.resume();
