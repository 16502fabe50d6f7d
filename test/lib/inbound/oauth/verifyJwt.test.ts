/**
 * JWT access tokens through the public API (compileInboundOAuth2 + authenticateBearer), with a
 * JWKS served by an injected HTTP function and a clock the test moves.
 */
import { createHmac, sign } from 'node:crypto';

import {
	AuthServerUnavailableError,
	authenticateBearer,
	compileInboundOAuth2,
	TokenRefusedError,
	type InboundOAuth2Settings,
} from '../../../../lib/inbound/oauth';
import { b64, ecKey, fakeServer, nowSeconds, rsaKey, signHmac, signWith, testClock, type FakeServer } from './keys';

const ISSUER = 'https://auth.example.test/';
const AUDIENCE = 'https://api.example.test/profiles';
const JWKS_URL = 'https://auth.example.test/jwks';

const rs = rsaKey('rs-1');
const es = ecKey('es-1');

const claims = (extra: Record<string, unknown> = {}) => ({
	iss: ISSUER,
	aud: AUDIENCE,
	sub: 'crm-platform',
	client_id: 'crm-platform',
	iat: nowSeconds(),
	exp: nowSeconds() + 300,
	scope: 'profile:read profile:write',
	...extra,
});

function setup(settings: Partial<InboundOAuth2Settings> = {}, server: FakeServer = fakeServer([rs, es])) {
	const clock = testClock();
	const config = compileInboundOAuth2(
		{
			verification: 'jwt',
			issuer: ISSUER,
			audience: AUDIENCE,
			keySource: 'jwks',
			jwksUrl: JWKS_URL,
			requiredScopes: 'profile:write',
			...settings,
		},
		{ clock: clock.now },
	);
	const verify = (token: string) =>
		authenticateBearer(config, `Bearer ${token}`, { http: server.http, webhookPath: 'profiles' });
	return { config, server, clock, verify };
}

async function refusal(promise: Promise<unknown>): Promise<TokenRefusedError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(TokenRefusedError);
	return error as TokenRefusedError;
}

describe('JWT access tokens: signatures and algorithms', () => {
	it('accepts RS256 and ES256 tokens and says who they are for', async () => {
		const { verify } = setup();
		await expect(verify(signWith(rs, claims()))).resolves.toEqual({
			via: 'jwt',
			subject: 'crm-platform',
			clientId: 'crm-platform',
			scopes: ['profile:read', 'profile:write'],
			expiresAt: nowSeconds() + 300,
		});
		await expect(verify(signWith(es, claims()))).resolves.toMatchObject({ via: 'jwt' });
	});

	it('accepts a token without kid when a key of its algorithm verifies it', async () => {
		const other = rsaKey('rs-2');
		const { verify } = setup({}, fakeServer([other, rs]));
		await expect(verify(signWith(rs, claims(), { kid: undefined }))).resolves.toMatchObject({ via: 'jwt' });
	});

	it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %j', async (alg) => {
		const { verify } = setup();
		const error = await refusal(verify(`${b64({ alg, typ: 'at+jwt' })}.${b64(claims())}.`));
		expect(error.reason).toBe('alg_none');
		expect(error.status).toBe(401);
		expect(error.headers['WWW-Authenticate']).toBe(
			`Bearer realm="profile-webhook", error="invalid_token", error_description="The access token is unsigned (alg 'none'); unsigned tokens are refused"`,
		);
	});

	it('refuses HS256 keyed with the RSA public key (algorithm confusion) without fetching anything', async () => {
		const { verify, server } = setup();
		const pem = rs.publicKey.export({ type: 'spki', format: 'pem' });
		const error = await refusal(verify(signHmac(pem, claims(), { kid: 'rs-1' })));
		expect(error.reason).toBe('algorithm');
		expect(error.message).toBe('The access token is signed with "HS256", which this webhook does not accept (accepted: RS256, ES256)');
		expect(server.requests).toHaveLength(0);
	});

	it('refuses algorithms left out of the allowed list, and unknown ones', async () => {
		const { verify } = setup({ allowedAlgorithms: ['RS256'] });
		expect((await refusal(verify(signWith(es, claims())))).message).toMatch(/"ES256", which this webhook does not accept \(accepted: RS256\)/);
		const ps = `${b64({ alg: 'PS256', kid: 'rs-1' })}.${b64(claims())}.c2ln`;
		expect((await refusal(verify(ps))).reason).toBe('algorithm');
	});

	it('refuses a key id whose key cannot do the algorithm (an RS256 header on the EC key)', async () => {
		const { verify } = setup();
		const token = signWith(rs, claims(), { kid: 'es-1' });
		const error = await refusal(verify(token));
		expect(error.reason).toBe('algorithm');
		expect(error.message).toBe('The access token says RS256, but its key "es-1" cannot verify RS256 signatures');
	});

	// Cases the hand-written JWS code had its own tests for, now checked through jose.
	it('refuses keys and signatures jose will not use: a 1024-bit RSA key, a DER ECDSA signature, a JWKS entry with its private part', async () => {
		const short = rsaKey('short', 1024);
		const weak = setup({}, fakeServer([short]));
		expect((await refusal(weak.verify(signWith(short, claims())))).reason).toBe('signature');
		const { verify } = setup();
		const [header, payload] = signWith(es, claims()).split('.');
		const der = sign('sha256', Buffer.from(`${header}.${payload}`), es.privateKey).toString('base64url');
		expect((await refusal(verify(`${header}.${payload}.${der}`))).reason).toBe('signature');
		const leaked = fakeServer();
		leaked.jwks.keys.push({ ...rs.privateKey.export({ format: 'jwk' }), kid: 'rs-1', alg: 'RS256', use: 'sig' });
		const withPrivate = setup({}, leaked);
		expect((await refusal(withPrivate.verify(signWith(rs, claims())))).reason).toBe('signature');
	});

	it('refuses changed claims and damaged signatures', async () => {
		const { verify } = setup();
		const [header, , signature] = signWith(rs, claims({ scope: 'profile:read' })).split('.');
		const widened = `${header}.${b64(claims())}.${signature}`;
		expect((await refusal(verify(widened))).reason).toBe('signature');
		const token = signWith(es, claims());
		const damaged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
		const error = await refusal(verify(damaged));
		expect(error.reason).toBe('signature');
		expect(error.message).toBe("The access token's signature is invalid");
	});

	it('refuses malformed tokens, encrypted tokens, critical extensions and non-access-token types', async () => {
		const { verify } = setup();
		const messages = await Promise.all(
			[
				'a.b',
				`${b64('x')}.${b64(claims())}.c2ln`,
				'a.b.c.d.e',
				signWith(rs, claims(), { crit: ['exp'] }),
				signWith(rs, claims(), { typ: 'dpop+jwt' }),
				`${b64({ typ: 'at+jwt' })}.${b64(claims())}.c2ln`,
			].map(async (token) => (await refusal(verify(token))).message),
		);
		expect(messages).toEqual([
			'The access token is not a JWT',
			"The access token's header is not a JSON object",
			'The access token is not a JWT',
			'The access token uses critical header extensions (crit) this webhook does not understand',
			`The token's type (typ) is "dpop+jwt", not an access token`,
			'The access token names no signing algorithm (alg)',
		]);
	});
});

describe('JWT access tokens: claims', () => {
	it('refuses another issuer, and a token naming none', async () => {
		const { verify } = setup();
		expect((await refusal(verify(signWith(rs, claims({ iss: 'https://evil.test/' }))))).message).toBe(
			'The access token was issued by "https://evil.test/", not by the expected issuer "https://auth.example.test/"',
		);
		expect((await refusal(verify(signWith(rs, claims({ iss: undefined }))))).reason).toBe('issuer');
	});

	it('wants one of the configured audiences among the token\'s', async () => {
		const { verify } = setup({ audience: `${AUDIENCE}, urn:second` });
		await expect(verify(signWith(rs, claims({ aud: ['urn:other', 'urn:second'] })))).resolves.toBeDefined();
		const error = await refusal(verify(signWith(rs, claims({ aud: ['urn:other', 'urn:third'] }))));
		expect(error.reason).toBe('audience');
		expect(error.message).toBe(
			'The access token is meant for "urn:other", "urn:third", not for "https://api.example.test/profiles" or "urn:second" (wrong audience)',
		);
		expect((await refusal(verify(signWith(rs, claims({ aud: undefined }))))).message).toMatch(/names no audience/);
	});

	it('checks exp and nbf with the clock skew, and wants an exp', async () => {
		const { verify } = setup({ clockSkewSeconds: 60 });
		await expect(verify(signWith(rs, claims({ exp: nowSeconds() - 59 })))).resolves.toBeDefined();
		const expired = await refusal(verify(signWith(rs, claims({ exp: nowSeconds() - 61 }))));
		expect(expired.reason).toBe('expired');
		expect(expired.message).toBe(`The access token expired at ${new Date((nowSeconds() - 61) * 1000).toISOString()}`);
		await expect(verify(signWith(rs, claims({ nbf: nowSeconds() + 59 })))).resolves.toBeDefined();
		expect((await refusal(verify(signWith(rs, claims({ nbf: nowSeconds() + 61 }))))).reason).toBe('not_yet_valid');
		expect((await refusal(verify(signWith(rs, claims({ exp: undefined }))))).message).toBe('The access token has no expiry (exp)');
		expect((await refusal(verify(signWith(rs, claims({ exp: '2030' }))))).reason).toBe('malformed');
	});

	it('with no skew, accepts a token until the second before exp (RFC 7519: exp itself is too late)', async () => {
		const { verify } = setup({ clockSkewSeconds: 0 });
		await expect(verify(signWith(rs, claims({ exp: nowSeconds() + 1 })))).resolves.toBeDefined();
		expect((await refusal(verify(signWith(rs, claims({ exp: nowSeconds() }))))).reason).toBe('expired');
	});

	// Attack list (issue 16): these answered 500 "Invalid time value" (a Date out of range).
	it.each([
		['exp far in the past', { exp: -1e300 }, 'expired', 'The access token expired at a time out of range'],
		['nbf far in the future', { nbf: 1e300 }, 'not_yet_valid', 'The access token is not valid before a time out of range'],
		['exp far in the future', { exp: 1e300 }, 'malformed', "The access token's exp claim is out of range"],
		['iat out of range', { iat: -1e300 }, 'malformed', "The access token's iat claim is out of range"],
	])('refuses a validly signed token with %s: 401, never 500', async (_label, extra, reason, message) => {
		const { verify } = setup();
		const error = await refusal(verify(signWith(rs, claims(extra))));
		expect({ status: error.status, reason: error.reason, message: error.message }).toEqual({ status: 401, reason, message });
	});

	it('answers 403 insufficient_scope naming the missing scopes; scp lists count too', async () => {
		const { verify } = setup({ requiredScopes: 'profile:write profile:erase' });
		const error = await refusal(verify(signWith(rs, claims({ scope: 'profile:write' }))));
		expect(error.status).toBe(403);
		expect(error.code).toBe('FORBIDDEN');
		expect(error.headers['WWW-Authenticate']).toBe(
			'Bearer realm="profile-webhook", error="insufficient_scope", error_description="The access token lacks the required scope: profile:erase", scope="profile:write profile:erase"',
		);
		await expect(
			verify(signWith(rs, claims({ scope: undefined, scp: ['profile:erase', 'profile:write'] }))),
		).resolves.toMatchObject({ scopes: ['profile:erase', 'profile:write'] });
	});
});

describe('JWT access tokens: the JWKS cache', () => {
	it('fetches once for many tokens, and concurrent first requests share one fetch', async () => {
		const { verify, server } = setup();
		await Promise.all(Array.from({ length: 10 }, () => verify(signWith(rs, claims()))));
		for (let i = 0; i < 5; i++) await verify(signWith(es, claims()));
		expect(server.requests).toEqual([
			{ method: 'GET', url: JWKS_URL, headers: { accept: 'application/jwk-set+json, application/json' } },
		]);
	});

	it('fetches again for an unknown kid only after the cooldown, then accepts a rotated key', async () => {
		const { verify, server, clock } = setup({ jwksCooldownSeconds: 30 });
		await verify(signWith(rs, claims()));
		const rotated = rsaKey('rs-2');
		const token = signWith(rotated, claims());
		server.jwks.keys.push(rotated.jwk);
		// Just fetched: an unknown kid does not fetch again, however many arrive.
		for (let i = 0; i < 3; i++) {
			const error = await refusal(verify(token));
			expect(error.reason).toBe('unknown_key');
			expect(error.message).toBe(`The access token is signed with an unknown key: kid "rs-2" is not in the authorization server's key set`);
		}
		expect(server.requests).toHaveLength(1);
		clock.advance(30_000);
		await expect(verify(token)).resolves.toMatchObject({ via: 'jwt' });
		expect(server.requests).toHaveLength(2);
	});

	it('refuses a kid that is not there even after the one refetch, and rate-limits the refetches', async () => {
		const { verify, server, clock } = setup({ jwksCooldownSeconds: 30 });
		await verify(signWith(rs, claims()));
		const rogue = signWith(rsaKey('rogue'), claims());
		clock.advance(31_000);
		for (let i = 0; i < 5; i++) expect((await refusal(verify(rogue))).reason).toBe('unknown_key');
		expect(server.requests).toHaveLength(2);
		clock.advance(31_000);
		await refusal(verify(rogue));
		expect(server.requests).toHaveLength(3);
	});

	it('fetches again after ten minutes on its own', async () => {
		const { verify, server, clock } = setup();
		const token = signWith(rs, claims({ exp: nowSeconds() + 3600 }));
		await verify(token);
		clock.advance(599_000);
		await verify(token);
		expect(server.requests).toHaveLength(1);
		clock.advance(1_000);
		await verify(token);
		expect(server.requests).toHaveLength(2);
	});

	it('answers 503 when no key set can be had, without asking again within the cooldown', async () => {
		const server = fakeServer([rs]);
		server.respond = () => ({ status: 500, body: 'down' });
		const { verify, clock } = setup({ jwksCooldownSeconds: 30 }, server);
		const first = await verify(signWith(rs, claims())).catch((e: unknown) => e);
		expect(first).toBeInstanceOf(AuthServerUnavailableError);
		expect(first).toMatchObject({
			status: 503,
			code: 'AUTH_SERVER_UNAVAILABLE',
			message: 'The JWKS answered HTTP 500',
			detail: `The JWKS at ${JWKS_URL} answered HTTP 500`,
		});
		await expect(verify(signWith(rs, claims()))).rejects.toThrow(/could not be fetched/);
		expect(server.requests).toHaveLength(1);
		clock.advance(30_000);
		server.respond = undefined;
		await expect(verify(signWith(rs, claims()))).resolves.toBeDefined();
		expect(server.requests).toHaveLength(2);
	});

	it('keeps the keys it has when a refresh fails', async () => {
		const server = fakeServer([rs]);
		const { verify, clock } = setup({}, server);
		const token = signWith(rs, claims({ exp: nowSeconds() + 3600 }));
		await verify(token);
		clock.advance(600_000);
		server.respond = async () => {
			throw new Error('connect ECONNREFUSED');
		};
		await expect(verify(token)).resolves.toBeDefined();
		expect(server.requests).toHaveLength(2);
	});

	it('says so when the URL answers something that is not a key set', async () => {
		const server = fakeServer();
		server.respond = () => ({ status: 200, body: { issuer: ISSUER } });
		const { verify } = setup({}, server);
		await expect(verify(signWith(rs, claims()))).rejects.toThrow('The JWKS did not answer a JSON Web Key Set');
	});

	it('never uses symmetric keys a JWKS publishes', async () => {
		const server = fakeServer([rs]);
		const secret = 'a-secret-published-by-mistake-0123456789';
		server.jwks.keys.push({ kty: 'oct', kid: 'oct-1', k: Buffer.from(secret).toString('base64url') });
		const { verify } = setup({ allowedAlgorithms: ['RS256'] }, server);
		const error = await refusal(verify(signHmac(secret, claims(), { kid: 'oct-1' })));
		expect(error.reason).toBe('algorithm');
		// And as RS256 the oct entry is simply not a key.
		const fake = `${b64({ alg: 'RS256', kid: 'oct-1' })}.${b64(claims())}.${createHmac('sha256', secret).update('x').digest('base64url')}`;
		expect((await refusal(verify(fake))).reason).toBe('unknown_key');
	});
});

describe('JWT access tokens: what an unauthenticated caller is told', () => {
	// Attack list (issue 16): the 401 for an unknown kid and the 503s carried the configured URL.
	const SECRET_URL = 'https://trigger:s3cr3t-pass@auth.example.test/jwks?token=q-s3cr3t';
	const callerText = (error: unknown) => {
		const e = error as TokenRefusedError;
		return JSON.stringify({ body: e.toBody(), headers: e.headers });
	};

	it('never repeats the configured URL, its user:pass or its query token', async () => {
		const down = fakeServer([rs]);
		down.respond = async () => {
			throw new Error(`connect ECONNREFUSED ${SECRET_URL}`);
		};
		const unreachable = setup({ jwksUrl: SECRET_URL }, down);
		const errors: unknown[] = [
			await unreachable.verify(signWith(rs, claims())).catch((e: unknown) => e),
			await unreachable.verify(signWith(rs, claims())).catch((e: unknown) => e),
		];
		const up = setup({ jwksUrl: SECRET_URL });
		errors.push(await up.verify(signWith(rsaKey('rogue'), claims())).catch((e: unknown) => e));
		errors.push(await up.verify(signWith(rs, claims(), { kid: undefined, alg: 'ES256' })).catch((e: unknown) => e));
		for (const error of errors) {
			expect(error).toBeInstanceOf(Error);
			const text = callerText(error);
			for (const secret of ['s3cr3t', 'trigger:', 'auth.example.test', 'token=']) expect([text, text.includes(secret)]).toEqual([text, false]);
		}
		// The workflow's owner still learns which endpoint failed, without its credentials.
		expect((errors[0] as AuthServerUnavailableError).detail).toBe('The JWKS at https://auth.example.test/jwks could not be reached');
	});
});

describe('JWT access tokens: HS256 shared secret', () => {
	const SECRET = 'shared-secret-of-the-authorization-server';

	it('accepts HS256 with the secret, refuses other secrets and every asymmetric algorithm', async () => {
		const server = fakeServer();
		const { verify } = setup({ keySource: 'sharedSecret', sharedSecret: SECRET, jwksUrl: '' }, server);
		await expect(verify(signHmac(SECRET, claims()))).resolves.toMatchObject({ via: 'jwt' });
		expect((await refusal(verify(signHmac(`${SECRET}!`, claims())))).reason).toBe('signature');
		expect((await refusal(verify(signWith(rs, claims())))).message).toMatch(/"RS256", which this webhook does not accept \(accepted: HS256\)/);
		expect(server.requests).toHaveLength(0);
	});
});
