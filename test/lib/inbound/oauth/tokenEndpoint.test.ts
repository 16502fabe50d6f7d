/**
 * The trigger's own token URL (client_credentials) and the tokens it issues, through the public
 * API: answerTokenRequest, then authenticateBearer with the same configuration.
 */
import {
	answerTokenRequest,
	authenticateBearer,
	compileInboundOAuth2,
	TokenRefusedError,
	TRIGGER_ISSUER,
	type InboundOAuth2Settings,
	type TokenRequest,
	type TokenResponse,
} from '../../../../lib/inbound/oauth';
import { b64, fakeServer, nowSeconds, signHmac, testClock } from './keys';

const SIGNING = 'the-trigger-signing-secret-0123456789';
const CRM_SECRET = 'crm-secret-0123456789';

function setup(settings: Partial<InboundOAuth2Settings> = {}) {
	const clock = testClock();
	const config = compileInboundOAuth2(
		{
			verification: 'registeredApplicationsOnly',
			registeredApplications: `crm:${CRM_SECRET}\nodd:p@ss:w+rd/=%-0123456789`,
			tokenSigningSecret: SIGNING,
			tokenLifetimeSeconds: 300,
			clockSkewSeconds: 0,
			...settings,
		},
		{ clock: clock.now },
	);
	const server = fakeServer();
	const request = (form: Record<string, unknown>, headers: Record<string, string> = {}, extra: Partial<TokenRequest> = {}) =>
		answerTokenRequest(
			config,
			{ method: 'POST', contentType: 'application/x-www-form-urlencoded', headers, body: form, ...extra },
			'profiles',
		) as Promise<TokenResponse>;
	const verify = (token: string, webhookPath = 'profiles') =>
		authenticateBearer(config, `Bearer ${token}`, { http: server.http, webhookPath });
	return { config, clock, request, verify, server };
}

async function refused(promise: Promise<unknown>): Promise<TokenRefusedError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(TokenRefusedError);
	return error as TokenRefusedError;
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
const grant = { grant_type: 'client_credentials' };

function claimsOf(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
	const [header, payload] = token.split('.');
	return {
		header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
		payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
	};
}

describe('token URL: issuing', () => {
	it('issues a short-lived HS256 JWT to a client authenticated by HTTP Basic', async () => {
		const { request } = setup();
		const answer = await request(grant, basic('crm', CRM_SECRET));
		expect(answer.status).toBe(200);
		expect(answer.headers).toEqual({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
		expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });
		const { header, payload } = claimsOf(answer.body.access_token as string);
		expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
		expect(payload).toEqual({
			iss: TRIGGER_ISSUER,
			aud: `${TRIGGER_ISSUER}:profiles`,
			sub: 'crm',
			client_id: 'crm',
			iat: nowSeconds(),
			exp: nowSeconds() + 300,
			jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
		});
	});

	it('accepts client_id and client_secret in the body', async () => {
		const { request } = setup();
		expect((await request({ ...grant, client_id: 'crm', client_secret: CRM_SECRET })).status).toBe(200);
	});

	it('accepts Basic credentials form-encoded (RFC 6749) and raw (as n8n sends them)', async () => {
		const { request } = setup();
		const secret = 'p@ss:w+rd/=%-0123456789';
		expect((await request(grant, basic('odd', secret))).status).toBe(200);
		const encoded = new URLSearchParams({ s: secret }).toString().slice(2);
		expect((await request(grant, basic('odd', encoded))).status).toBe(200);
	});

	it('grants the requested scopes an application may have, by default all of them', async () => {
		const { request } = setup({
			registeredApplications: JSON.stringify([{ clientId: 'crm', clientSecret: CRM_SECRET, scopes: ['profile:read', 'profile:write'] }]),
		});
		const auth = basic('crm', CRM_SECRET);
		expect((await request({ ...grant, scope: 'profile:write' }, auth)).body.scope).toBe('profile:write');
		expect((await request(grant, auth)).body.scope).toBe('profile:read profile:write');
		expect(await request({ ...grant, scope: 'profile:write admin' }, auth)).toMatchObject({
			status: 400,
			body: { error: 'invalid_scope', error_description: 'The scope admin is not granted to the client crm' },
		});
	});

	it('gives applications without scopes of their own the required scopes', async () => {
		const { request, verify } = setup({ requiredScopes: 'profile:write' });
		const answer = await request(grant, basic('crm', CRM_SECRET));
		expect(answer.body.scope).toBe('profile:write');
		await expect(verify(answer.body.access_token as string)).resolves.toMatchObject({ via: 'trigger', scopes: ['profile:write'] });
	});
});

describe('token URL: refusing', () => {
	it.each([
		['a wrong secret', basic('crm', `${CRM_SECRET}x`)],
		['an unknown client', basic('nobody', CRM_SECRET)],
		['a Bearer header', { authorization: 'Bearer abc' }],
	])('answers 401 invalid_client with a Basic challenge for %s', async (_label, headers) => {
		const { request } = setup();
		const answer = await request(grant, headers);
		expect(answer.status).toBe(401);
		expect(answer.headers['WWW-Authenticate']).toBe('Basic realm="profile-webhook"');
		expect(answer.body.error).toBe('invalid_client');
	});

	it('answers 401 invalid_client without any client authentication, and for a wrong body secret', async () => {
		const { request } = setup();
		expect(await request(grant)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
		expect(await request({ ...grant, client_id: 'crm' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
		expect(await request({ ...grant, client_id: 'crm', client_secret: 'nope' })).toMatchObject({
			status: 401,
			body: { error: 'invalid_client', error_description: 'Client authentication failed: unknown client or wrong secret' },
		});
	});

	it('answers 400 unsupported_grant_type for other grants of an authenticated client', async () => {
		const { request } = setup();
		expect(await request({ grant_type: 'password', username: 'u', password: 'p' }, basic('crm', CRM_SECRET))).toMatchObject({
			status: 400,
			body: { error: 'unsupported_grant_type' },
		});
	});

	it.each([
		['no grant_type', {}, {}, {}, 'The grant_type parameter is missing'],
		['two authentication methods', { ...grant, client_secret: CRM_SECRET }, basic('crm', CRM_SECRET), {}, /authenticated twice/],
		['a client_id that is not the Basic one', { ...grant, client_id: 'odd' }, basic('crm', CRM_SECRET), {}, /differs/],
		['a repeated parameter', { grant_type: ['client_credentials', 'client_credentials'] }, basic('crm', CRM_SECRET), {}, /repeated/],
		['a JSON body', grant, basic('crm', CRM_SECRET), { contentType: 'application/json' }, /x-www-form-urlencoded/],
	])('answers 400 invalid_request for %s', async (_label, form, headers, extra, message) => {
		const { request } = setup();
		const answer = await request(form, headers, extra);
		expect(answer.status).toBe(400);
		expect(answer.body.error).toBe('invalid_request');
		expect(answer.body.error_description).toMatch(message);
	});

	it('answers nothing when the credential lists no applications', async () => {
		const config = compileInboundOAuth2({ verification: 'jwt', issuer: 'i', audience: 'a', jwksUrl: 'https://x.test/jwks' });
		expect(await answerTokenRequest(config, { method: 'POST', headers: {}, body: grant }, 'p')).toBeUndefined();
	});
});

describe('tokens the trigger issued, at its webhook', () => {
	it('are accepted at the same path, until they expire', async () => {
		const { request, verify, clock, server } = setup();
		const token = (await request(grant, basic('crm', CRM_SECRET))).body.access_token as string;
		await expect(verify(token)).resolves.toEqual({
			via: 'trigger',
			subject: 'crm',
			clientId: 'crm',
			scopes: [],
			expiresAt: nowSeconds() + 300,
		});
		clock.advance(301_000);
		expect((await refused(verify(token))).reason).toBe('expired');
		expect(server.requests).toHaveLength(0);
	});

	it('are refused at another path (audience), and with a missing required scope (403)', async () => {
		const { request, verify } = setup();
		const token = (await request(grant, basic('crm', CRM_SECRET))).body.access_token as string;
		expect((await refused(verify(token, 'other'))).message).toMatch(/wrong audience/);
		const scoped = setup({
			requiredScopes: 'profile:write',
			registeredApplications: JSON.stringify([{ clientId: 'crm', clientSecret: CRM_SECRET, scopes: ['profile:read'] }]),
		});
		const readOnly = (await scoped.request(grant, basic('crm', CRM_SECRET))).body.access_token as string;
		expect(await refused(scoped.verify(readOnly))).toMatchObject({ status: 403, reason: 'insufficient_scope' });
	});

	it('cannot be forged: another secret, alg none, or the trigger issuer on an external token', async () => {
		const { verify } = setup();
		const claims = { iss: TRIGGER_ISSUER, aud: `${TRIGGER_ISSUER}:profiles`, sub: 'crm', exp: nowSeconds() + 60 };
		expect((await refused(verify(signHmac('another-secret-0123456789-0123456789', claims)))).reason).toBe('signature');
		expect((await refused(verify(`${b64({ alg: 'none' })}.${b64(claims)}.`))).reason).toBe('alg_none');
	});

	it('are the only ones accepted with "only tokens this trigger issues"', async () => {
		const { verify } = setup();
		const external = signHmac(SIGNING, { iss: 'https://auth.example.test/', aud: 'x', exp: nowSeconds() + 60 });
		expect((await refused(verify(external))).message).toBe(
			`The access token was issued by "https://auth.example.test/", not by this trigger's token URL`,
		);
		expect((await refused(verify('opaque'))).reason).toBe('malformed');
	});

	it('are accepted next to an external authorization server\'s tokens', async () => {
		const shared = 'external-shared-secret-0123456789abcdef';
		const { request, verify } = setup({
			verification: 'jwt',
			issuer: 'https://auth.example.test/',
			audience: 'urn:profiles',
			keySource: 'sharedSecret',
			sharedSecret: shared,
		});
		const own = (await request(grant, basic('crm', CRM_SECRET))).body.access_token as string;
		await expect(verify(own)).resolves.toMatchObject({ via: 'trigger' });
		const external = signHmac(shared, { iss: 'https://auth.example.test/', aud: 'urn:profiles', exp: nowSeconds() + 60 });
		await expect(verify(external)).resolves.toMatchObject({ via: 'jwt' });
		// The external server's secret does not make trigger tokens.
		const forged = signHmac(shared, { iss: TRIGGER_ISSUER, aud: `${TRIGGER_ISSUER}:profiles`, exp: nowSeconds() + 60 });
		expect((await refused(verify(forged))).reason).toBe('signature');
	});
});
