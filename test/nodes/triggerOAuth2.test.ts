/**
 * The Profile Webhook Trigger with `authentication: oAuth2`, in n8n-core's real WebhookContext,
 * verifying access tokens issued by a real authorization server (oidc-provider, in a child
 * process on 127.0.0.1): JWT access tokens against its JWKS or an HS256 secret, opaque tokens by
 * its introspection endpoint. Every refusal is checked for its status, its WWW-Authenticate
 * header, its message, and for leaving the profile store and the executions untouched.
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';

import type { ICredentialDataDecryptedObject, INodeParameters } from 'n8n-workflow';

import { ProfileWebhookInboundOAuth2Api } from '../../credentials/ProfileWebhookInboundOAuth2Api.credentials';
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { freezeClock, realClock, shiftClock, useShiftableClock } from '../helpers/clock';
import { startWebhookNode, type WebhookNodeServer } from '../helpers/n8n';
import {
	AS_AUDIENCE,
	AS_CLIENT,
	AS_HS256_SECRET,
	AS_INTROSPECTOR,
	startOAuthServer,
	type OAuthServer,
} from '../helpers/oauthServer';

let as: OAuthServer;
let store: ProfileEngine;
const servers: WebhookNodeServer[] = [];

beforeAll(async () => {
	as = await startOAuthServer();
	store = getProfileEngine();
	// Expiry, cooldowns and cache TTLs are passed by moving the trigger's clock, not by sleeping.
	useShiftableClock();
});

afterAll(async () => {
	realClock();
	await Promise.all(servers.map((s) => s.close()));
	await as.close();
});

const parameters: INodeParameters = {
	path: 'profiles-oauth',
	authentication: 'oAuth2',
	identifierProperty: 'email',
	createProfiles: true,
	mappings: { mapping: [{ field: '$.firstName', property: 'firstname', mode: 'set' }] },
};

/** Each call gets its own credential content, so its key and answer caches start empty. */
function jwtCredential(extra: ICredentialDataDecryptedObject = {}): ICredentialDataDecryptedObject {
	return {
		verification: 'jwt',
		issuer: as.issuer,
		audience: AS_AUDIENCE,
		keySource: 'jwks',
		// A URL of its own per trigger: the caches are kept per credential content.
		jwksUrl: `${as.jwksUrl}?trigger=${randomUUID()}`,
		allowedAlgorithms: ['RS256', 'ES256'],
		requiredScopes: 'profile:write',
		clockSkewSeconds: 60,
		jwksCooldownSeconds: 1,
		...extra,
	};
}

function introspectionCredential(extra: ICredentialDataDecryptedObject = {}): ICredentialDataDecryptedObject {
	return {
		verification: 'introspection',
		introspectionUrl: as.introspectionUrl,
		introspectionClientId: AS_INTROSPECTOR.id,
		introspectionClientSecret: AS_INTROSPECTOR.secret,
		introspectionCacheSeconds: 60,
		issuer: as.issuer,
		requiredScopes: 'profile:write',
		...extra,
	};
}

async function serve(credential: ICredentialDataDecryptedObject): Promise<WebhookNodeServer> {
	const server = await startWebhookNode({
		nodeType: new ProfileWebhookTrigger(),
		parameters,
		credentials: [{ type: 'profileWebhookInboundOAuth2Api', data: credential }],
		credentialTypes: [new ProfileWebhookInboundOAuth2Api()],
	});
	servers.push(server);
	return server;
}

interface Answer {
	status: number;
	body: Record<string, unknown>;
	text: string;
	wwwAuthenticate: string | null;
	email: string;
}

async function send(server: WebhookNodeServer, token: string | undefined): Promise<Answer> {
	const email = `oauth-${randomUUID().slice(0, 8)}@example.test`;
	const res = await fetch(`${server.url}?property=email&email=${encodeURIComponent(email)}`, {
		method: 'POST',
		headers: {
			'content-type': 'application/json',
			...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
		},
		body: JSON.stringify({ firstName: 'Ada' }),
	});
	const text = await res.text();
	return {
		status: res.status,
		body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
		text,
		wwwAuthenticate: res.headers.get('www-authenticate'),
		email,
	};
}

async function profileExists(email: string): Promise<boolean> {
	return (await store.findByIdentifier('DEFAULT', 'email', email)).profile !== undefined;
}

async function expectAccepted(server: WebhookNodeServer, token: string): Promise<void> {
	const executions = server.executions.length;
	const answer = await send(server, token);
	expect({ status: answer.status, body: answer.body }).toEqual({
		status: 200,
		body: { state: 'CREATED', profileId: expect.any(String) },
	});
	expect(await profileExists(answer.email)).toBe(true);
	expect(server.executions).toHaveLength(executions + 1);
	// The token is nowhere in what the workflow gets.
	const emitted = JSON.stringify(server.executions.at(-1));
	expect(emitted).not.toContain(token);
	expect(emitted).not.toMatch(/authorization/i);
}

async function expectRefused(
	server: WebhookNodeServer,
	token: string | undefined,
	expected: { status: 401 | 403; error?: 'invalid_token' | 'insufficient_scope'; message: RegExp },
): Promise<Answer> {
	const executions = server.executions.length;
	const answer = await send(server, token);
	expect(answer.status).toBe(expected.status);
	const message = (answer.body.error as { message: string }).message;
	expect(message).toMatch(expected.message);
	expect(answer.body.error).toMatchObject({ code: expected.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN' });
	const header = answer.wwwAuthenticate ?? '';
	expect(header).toMatch(/^Bearer realm="profile-webhook"/);
	if (expected.error) {
		expect(header).toContain(`error="${expected.error}"`);
		// The header's quoted string cannot hold double quotes: they become single ones.
		expect(header).toContain(`error_description="${message.replace(/"/g, "'")}"`);
	} else {
		expect(header).not.toContain('error=');
	}
	if (token) {
		expect(answer.text).not.toContain(token);
		expect(header).not.toContain(token);
	}
	expect(await profileExists(answer.email)).toBe(false);
	expect(server.executions).toHaveLength(executions);
	return answer;
}

function parts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
	const [header, payload, signature] = token.split('.');
	return {
		header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
		payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
		signature,
	};
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function jwksDelta<T>(run: () => Promise<T>): Promise<{ result: T; fetches: number }> {
	const before = (await as.stats()).jwks;
	const result = await run();
	return { result, fetches: (await as.stats()).jwks - before };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');


describe('Trigger OAuth2: JWT access tokens from oidc-provider, keys from its JWKS', () => {
	let server: WebhookNodeServer;
	beforeAll(async () => {
		server = await serve(jwtCredential());
	});

	it('accepts an RS256 token with the required scope, and keeps the token out of the output', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		expect(parts(token).header).toMatchObject({ alg: 'RS256', kid: 'rs-1', typ: 'at+jwt' });
		await expectAccepted(server, token);
	});

	it('accepts an ES256 token (raw r||s signature)', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api:es256', scope: 'profile:write' });
		expect(parts(token).header).toMatchObject({ alg: 'ES256', kid: 'es-1' });
		await expectAccepted(server, token);
	});

	it('fetches the JWKS once, not per request', async () => {
		const fresh = await serve(jwtCredential());
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		const { fetches } = await jwksDelta(async () => {
			for (let i = 0; i < 4; i++) await expectAccepted(fresh, token);
			await Promise.all([1, 2, 3].map(async () => expect((await send(fresh, token)).status).toBe(200)));
		});
		expect(fetches).toBe(1);
	});

	it('refuses a request without a token: 401, Bearer challenge without an error code', async () => {
		await expectRefused(server, undefined, { status: 401, message: /No access token/ });
	});

	it('refuses an expired token, with and only within the clock skew', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api:short', scope: 'profile:write' });
		expect(parts(token).payload.exp).toBe((parts(token).payload.iat as number) + 1);
		shiftClock(2100);
		const strict = await serve(jwtCredential({ clockSkewSeconds: 0 }));
		await expectRefused(strict, token, { status: 401, error: 'invalid_token', message: /access token expired at \d{4}-/ });
		// 60 s of tolerated clock difference: the same token, a second past its expiry, passes.
		await expectAccepted(server, token);
	});

	it('refuses a token for another audience', async () => {
		const token = await as.accessToken({ resource: 'urn:other:api', scope: 'profile:write' });
		await expectRefused(server, token, {
			status: 401,
			error: 'invalid_token',
			message: /meant for "urn:other:api", not for "urn:profiles:api" \(wrong audience\)/,
		});
	});

	it('refuses a token of another issuer', async () => {
		const other = await serve(jwtCredential({ issuer: 'https://auth.example.test/' }));
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		await expectRefused(other, token, {
			status: 401,
			error: 'invalid_token',
			message: new RegExp(`issued by "${escapeRegExp(as.issuer)}", not by the expected issuer "https://auth.example.test/"`),
		});
	});

	it('refuses a token whose claims were changed after signing, and one with a damaged signature', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:read' });
		const { header, payload, signature } = parts(token);
		const widened = `${encode(header)}.${encode({ ...payload, scope: 'profile:read profile:write' })}.${signature}`;
		await expectRefused(server, widened, { status: 401, error: 'invalid_token', message: /signature is invalid/ });
		const good = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		const flipped = good.slice(0, -6) + (good.slice(-6, -5) === 'A' ? 'B' : 'A') + good.slice(-5);
		await expectRefused(server, flipped, { status: 401, error: 'invalid_token', message: /signature is invalid/ });
	});

	it('refuses alg "none" in any spelling', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		const { header, payload } = parts(token);
		for (const alg of ['none', 'None', 'NONE']) {
			const unsigned = `${encode({ ...header, alg })}.${encode(payload)}.`;
			await expectRefused(server, unsigned, { status: 401, error: 'invalid_token', message: /unsigned \(alg "none"\)/ });
		}
	});

	it('refuses algorithm confusion: HS256 keyed with the published RSA public key', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		const { payload } = parts(token);
		const jwks = (await (await fetch(as.jwksUrl)).json()) as { keys: Array<{ kid: string }> };
		const rsa = jwks.keys.find((k) => k.kid === 'rs-1')!;
		const pem = createPublicKey({ key: rsa, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
		const input = `${encode({ alg: 'HS256', typ: 'at+jwt', kid: 'rs-1' })}.${encode(payload)}`;
		const forged = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
		await expectRefused(server, forged, {
			status: 401,
			error: 'invalid_token',
			message: /signed with "HS256", which this webhook does not accept \(accepted: RS256, ES256\)/,
		});
	});

	it('refuses a token signed by an unknown key after fetching the JWKS once more, and not again within the cooldown', async () => {
		const fresh = await serve(jwtCredential());
		const good = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		await expectAccepted(fresh, good);
		const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
		const input = `${encode({ alg: 'RS256', typ: 'at+jwt', kid: 'rogue' })}.${encode(parts(good).payload)}`;
		const rogue = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
		shiftClock(1100); // past the 1 s cooldown of this credential
		const first = await jwksDelta(() =>
			expectRefused(fresh, rogue, {
				status: 401,
				error: 'invalid_token',
				message: /unknown key: kid "rogue" is not in the authorization server's key set$/,
			}),
		);
		expect(first.fetches).toBe(1);
		// The caller learns nothing about the configured URL (its query is this test's secret).
		expect(first.result.text).not.toContain('trigger=');
		expect(first.result.text).not.toContain(new URL(as.jwksUrl).host);
		const again = await jwksDelta(async () => {
			for (let i = 0; i < 3; i++) {
				await expectRefused(fresh, rogue, { status: 401, error: 'invalid_token', message: /unknown key/ });
			}
		});
		expect(again.fetches).toBe(0);
	});

	it('follows a key rotation: a new kid fetches the JWKS again and is then accepted', async () => {
		const fresh = await serve(jwtCredential());
		const rotated = await as.accessToken({ resource: 'urn:profiles:api:rotated', scope: 'profile:write' });
		expect(parts(rotated).header.kid).toBe('rs-rotated');
		// Not published yet: refused, and the JWKS just fetched is not fetched again at once.
		const before = await jwksDelta(() =>
			expectRefused(fresh, rotated, { status: 401, error: 'invalid_token', message: /kid "rs-rotated" is not in the authorization server's key set/ }),
		);
		expect(before.fetches).toBe(1);
		await as.publish('rs-rotated');
		shiftClock(1100);
		const after = await jwksDelta(() => expectAccepted(fresh, rotated));
		expect(after.fetches).toBe(1);
	});

	it('answers 403 insufficient_scope for a good token without the required scope', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:read' });
		const answer = await expectRefused(server, token, {
			status: 403,
			error: 'insufficient_scope',
			message: /lacks the required scope: profile:write/,
		});
		expect(answer.wwwAuthenticate).toContain('scope="profile:write"');
	});

	it('refuses HS256 tokens of the server: a JWKS only ever verifies RS256 and ES256', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api:hs256', scope: 'profile:write' });
		await expectRefused(server, token, { status: 401, error: 'invalid_token', message: /"HS256", which this webhook does not accept/ });
	});

	it('takes no token from the URL (RFC 6750 section 2.3), and never echoes one sent there', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		const email = `oauth-${randomUUID().slice(0, 8)}@example.test`;
		const inUrl = await fetch(`${server.url}?property=email&email=${encodeURIComponent(email)}&access_token=${token}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{}',
		});
		expect(inUrl.status).toBe(401);
		expect(((await inUrl.json()) as { error: { message: string } }).error.message).toMatch(/No access token/);
		const both = await fetch(`${server.url}?property=email&email=${encodeURIComponent(email)}&access_token=${token}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
			body: '{}',
		});
		expect(both.status).toBe(200);
		const request = server.executions.at(-1)!.items[0][0].json.request as { query: Record<string, unknown> };
		expect(request.query).toEqual({ property: 'email', email });
	});

	it('refuses what is not a JWT', async () => {
		await expectRefused(server, 'opaque-token-value', { status: 401, error: 'invalid_token', message: /not a JWT/ });
	});
});

describe('Trigger OAuth2: JWT access tokens with an HS256 shared secret', () => {
	let server: WebhookNodeServer;
	beforeAll(async () => {
		server = await serve(
			jwtCredential({ keySource: 'sharedSecret', sharedSecret: AS_HS256_SECRET, jwksUrl: '' }),
		);
	});

	it('accepts the server\'s HS256 token', async () => {
		const token = await as.accessToken({ resource: 'urn:profiles:api:hs256', scope: 'profile:write' });
		expect(parts(token).header).toMatchObject({ alg: 'HS256' });
		await expectAccepted(server, token);
	});

	it('refuses RS256 tokens and HS256 tokens signed with another secret', async () => {
		const rs = await as.accessToken({ resource: 'urn:profiles:api', scope: 'profile:write' });
		await expectRefused(server, rs, { status: 401, error: 'invalid_token', message: /"RS256", which this webhook does not accept \(accepted: HS256\)/ });
		const hs = await as.accessToken({ resource: 'urn:profiles:api:hs256', scope: 'profile:write' });
		const input = hs.split('.').slice(0, 2).join('.');
		const other = `${input}.${createHmac('sha256', 'another-secret-of-at-least-32-characters').update(input).digest('base64url')}`;
		await expectRefused(server, other, { status: 401, error: 'invalid_token', message: /signature is invalid/ });
	});
});

describe('Trigger OAuth2: opaque tokens by token introspection', () => {
	const introspections = async () => (await as.stats()).introspections;

	it('accepts an active token and asks the server once for repeated requests (positive cache)', async () => {
		const server = await serve(introspectionCredential());
		const token = await as.accessToken({ scope: 'profile:write' });
		expect(token.split('.')).toHaveLength(1);
		const before = await introspections();
		for (let i = 0; i < 4; i++) await expectAccepted(server, token);
		expect((await introspections()) - before).toBe(1);
	});

	it('asks every time with a cache TTL of 0', async () => {
		const server = await serve(introspectionCredential({ introspectionCacheSeconds: 0 }));
		const token = await as.accessToken({ scope: 'profile:write' });
		const before = await introspections();
		for (let i = 0; i < 3; i++) await expectAccepted(server, token);
		expect((await introspections()) - before).toBe(3);
	});

	it('refuses an unknown token as inactive, and answers it again from memory for 30 s (negative cache)', async () => {
		const server = await serve(introspectionCredential());
		const before = await introspections();
		for (let i = 0; i < 3; i++) {
			await expectRefused(server, 'not-a-token-the-server-knows', {
				status: 401,
				error: 'invalid_token',
				message: /not active.*\(introspection\)/,
			});
		}
		expect((await introspections()) - before).toBe(1);
		shiftClock(30_000);
		await expectRefused(server, 'not-a-token-the-server-knows', { status: 401, error: 'invalid_token', message: /not active/ });
		expect((await introspections()) - before).toBe(2);
	});

	// Attack list (issue 16): 20 distinct junk tokens made 20 introspection calls.
	it('bounds introspection calls per second: 20 distinct junk tokens make 5 calls, the rest 503 with Retry-After', async () => {
		const server = await serve(introspectionCredential({ introspectionMaxPerSecond: 5 }));
		freezeClock();
		try {
			const before = await introspections();
			const statuses: number[] = [];
			for (let i = 0; i < 20; i++) {
				const answer = await send(server, `junk-${i}-${randomUUID()}`);
				statuses.push(answer.status);
				if (answer.status === 503) {
					expect(answer.body.error).toEqual({
						code: 'AUTH_SERVER_UNAVAILABLE',
						message: 'Too many unknown access tokens to check right now; try again shortly',
					});
				}
				expect(await profileExists(answer.email)).toBe(false);
			}
			expect((await introspections()) - before).toBe(5);
			expect(statuses).toEqual([...Array(5).fill(401), ...Array(15).fill(503)]);
			// A second later a good token is checked again.
			shiftClock(1000);
			await expectAccepted(server, await as.accessToken({ scope: 'profile:write' }));
			expect((await introspections()) - before).toBe(6);
		} finally {
			useShiftableClock();
		}
	});

	it('refuses a revoked token once its cached answer has run out', async () => {
		const server = await serve(introspectionCredential({ introspectionCacheSeconds: 1 }));
		const token = await as.accessToken({ scope: 'profile:write' });
		await expectAccepted(server, token);
		await as.revoke(token, AS_CLIENT);
		// Within the cache TTL the earlier "active" answer stands: the price of the cache.
		await expectAccepted(server, token);
		shiftClock(1100);
		await expectRefused(server, token, { status: 401, error: 'invalid_token', message: /not active/ });
	});

	it('answers 403 for an active token without the required scope', async () => {
		const server = await serve(introspectionCredential());
		const token = await as.accessToken({ scope: 'profile:read' });
		await expectRefused(server, token, { status: 403, error: 'insufficient_scope', message: /required scope: profile:write/ });
	});

	it('refuses an active token of another issuer or for another audience', async () => {
		const token = await as.accessToken({ scope: 'profile:write' });
		const otherIssuer = await serve(introspectionCredential({ issuer: 'https://auth.example.test/' }));
		await expectRefused(otherIssuer, token, { status: 401, error: 'invalid_token', message: /not by the expected issuer/ });
		const audience = await serve(introspectionCredential({ audience: AS_AUDIENCE }));
		await expectRefused(audience, token, { status: 401, error: 'invalid_token', message: /names no audience/ });
	});

	it('answers 503 when the introspection endpoint refuses the trigger itself, naming no URL', async () => {
		const server = await serve(introspectionCredential({ introspectionClientSecret: 'wrong' }));
		const token = await as.accessToken({ scope: 'profile:write' });
		const answer = await send(server, token);
		expect(answer.status).toBe(503);
		expect(answer.body.error).toEqual({
			code: 'AUTH_SERVER_UNAVAILABLE',
			message: 'The token introspection endpoint answered HTTP 401 (invalid_client)',
		});
		expect(answer.text).not.toContain(token);
		expect(await profileExists(answer.email)).toBe(false);
	});
});
