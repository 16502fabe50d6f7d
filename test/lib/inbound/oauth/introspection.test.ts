/** RFC 7662 introspection through the public API, against an injected HTTP function. */
import {
	AuthServerUnavailableError,
	authenticateBearer,
	compileInboundOAuth2,
	TokenRefusedError,
	type HttpRequest,
	type InboundOAuth2Settings,
} from '../../../../lib/inbound/oauth';
import { nowSeconds, testClock } from './keys';

const URL_ = 'https://auth.example.test/introspect';

interface Endpoint {
	requests: HttpRequest[];
	answer: (token: string) => { status: number; body: unknown };
}

function setup(settings: Partial<InboundOAuth2Settings> = {}) {
	const clock = testClock();
	const endpoint: Endpoint = {
		requests: [],
		answer: () => ({
			status: 200,
			body: { active: true, client_id: 'crm', sub: 'crm', scope: 'profile:write', exp: nowSeconds() + 3600, token_type: 'Bearer' },
		}),
	};
	const config = compileInboundOAuth2(
		{
			verification: 'introspection',
			introspectionUrl: URL_,
			introspectionClientId: 'trigger rs',
			introspectionClientSecret: 'p@ss:w+rd',
			introspectionCacheSeconds: 60,
			requiredScopes: 'profile:write',
			...settings,
		},
		{ clock: clock.now },
	);
	const http = async (request: HttpRequest) => {
		endpoint.requests.push(request);
		return endpoint.answer(new URLSearchParams(request.body).get('token') ?? '');
	};
	const verify = (token: string) => authenticateBearer(config, `Bearer ${token}`, { http, webhookPath: 'p' });
	return { endpoint, clock, verify };
}

async function refusal(promise: Promise<unknown>): Promise<TokenRefusedError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(TokenRefusedError);
	return error as TokenRefusedError;
}

describe('token introspection', () => {
	it('asks with the token, a hint and HTTP Basic with form-encoded client id and secret', async () => {
		const { verify, endpoint } = setup();
		await expect(verify('opaque-1')).resolves.toEqual({
			via: 'introspection',
			subject: 'crm',
			clientId: 'crm',
			scopes: ['profile:write'],
			expiresAt: nowSeconds() + 3600,
		});
		const [request] = endpoint.requests;
		expect(request).toMatchObject({ method: 'POST', url: URL_ });
		expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
		expect(Buffer.from(request.headers.authorization.replace('Basic ', ''), 'base64').toString()).toBe('trigger+rs:p%40ss%3Aw%2Brd');
		expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({ token: 'opaque-1', token_type_hint: 'access_token' });
	});

	it('can send the client id and secret in the body instead', async () => {
		const { verify, endpoint } = setup({ introspectionClientAuthentication: 'body' });
		await verify('opaque-1');
		expect(endpoint.requests[0].headers.authorization).toBeUndefined();
		expect(Object.fromEntries(new URLSearchParams(endpoint.requests[0].body))).toEqual({
			token: 'opaque-1',
			token_type_hint: 'access_token',
			client_id: 'trigger rs',
			client_secret: 'p@ss:w+rd',
		});
	});

	it('keeps an active answer for the cache TTL, per token, and shares one request among concurrent ones', async () => {
		const { verify, endpoint, clock } = setup({ introspectionCacheSeconds: 60 });
		await Promise.all([verify('a'), verify('a'), verify('a')]);
		await verify('a');
		await verify('b');
		expect(endpoint.requests).toHaveLength(2);
		clock.advance(59_000);
		await verify('a');
		expect(endpoint.requests).toHaveLength(2);
		clock.advance(1_000);
		await verify('a');
		expect(endpoint.requests).toHaveLength(3);
	});

	it('never keeps an answer past the token\'s expiry', async () => {
		const { verify, endpoint, clock } = setup({ introspectionCacheSeconds: 60 });
		endpoint.answer = () => ({ status: 200, body: { active: true, scope: 'profile:write', exp: nowSeconds() + 10 } });
		await verify('short');
		clock.advance(10_000);
		endpoint.answer = () => ({ status: 200, body: { active: false } });
		expect((await refusal(verify('short'))).reason).toBe('inactive');
		expect(endpoint.requests).toHaveLength(2);
	});

	it('refuses inactive tokens with the check named, and keeps that answer for 30 s (negative cache)', async () => {
		const { verify, endpoint, clock } = setup();
		endpoint.answer = () => ({ status: 200, body: { active: false } });
		for (let i = 0; i < 3; i++) {
			const error = await refusal(verify('revoked'));
			expect(error.status).toBe(401);
			expect(error.message).toMatch(/^The access token is not active: .*\(introspection\)$/);
			expect(error.headers['WWW-Authenticate']).toContain('error="invalid_token"');
		}
		expect(endpoint.requests).toHaveLength(1);
		clock.advance(29_999);
		await refusal(verify('revoked'));
		expect(endpoint.requests).toHaveLength(1);
		clock.advance(1);
		endpoint.answer = () => ({ status: 200, body: { active: true, scope: 'profile:write' } });
		await expect(verify('revoked')).resolves.toMatchObject({ via: 'introspection' });
		expect(endpoint.requests).toHaveLength(2);
	});

	// Attack list (issue 16): 20 distinct junk tokens made 20 introspection calls.
	it('bounds introspection calls per second: distinct junk tokens past the bound get 503 with Retry-After', async () => {
		const { verify, endpoint, clock } = setup({ introspectionMaxPerSecond: 5 });
		endpoint.answer = () => ({ status: 200, body: { active: false } });
		const outcomes = [];
		for (let i = 0; i < 20; i++) outcomes.push(await verify(`junk-${i}`).catch((e: unknown) => e as TokenRefusedError));
		expect(endpoint.requests).toHaveLength(5);
		expect(outcomes.slice(0, 5).map((e) => (e as TokenRefusedError).status)).toEqual([401, 401, 401, 401, 401]);
		for (const e of outcomes.slice(5)) {
			expect(e).toBeInstanceOf(AuthServerUnavailableError);
			expect(e).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
		}
		// The same junk again is answered from memory, without a call and without spending the budget.
		expect((await refusal(verify('junk-0'))).reason).toBe('inactive');
		expect(endpoint.requests).toHaveLength(5);
		// A second later the budget is back: a good token is checked.
		clock.advance(1_000);
		endpoint.answer = () => ({ status: 200, body: { active: true, scope: 'profile:write' } });
		await expect(verify('good')).resolves.toMatchObject({ via: 'introspection' });
		expect(endpoint.requests).toHaveLength(6);
	});

	it('refuses refresh tokens, missing scopes, other issuers and audiences when configured', async () => {
		const { verify, endpoint } = setup({ issuer: 'https://auth.example.test/', audience: 'urn:profiles' });
		const active = { active: true, scope: 'profile:write', iss: 'https://auth.example.test/', aud: 'urn:profiles' };
		endpoint.answer = () => ({ status: 200, body: active });
		await expect(verify('ok')).resolves.toBeDefined();
		endpoint.answer = () => ({ status: 200, body: { ...active, token_type: 'refresh_token' } });
		expect((await refusal(verify('rt'))).message).toBe('The token is a refresh_token, not an access token');
		endpoint.answer = () => ({ status: 200, body: { ...active, scope: 'profile:read' } });
		expect((await refusal(verify('read-only'))).status).toBe(403);
		endpoint.answer = () => ({ status: 200, body: { ...active, iss: 'https://other.test/' } });
		expect((await refusal(verify('other-iss'))).reason).toBe('issuer');
		endpoint.answer = () => ({ status: 200, body: { ...active, aud: ['urn:elsewhere'] } });
		expect((await refusal(verify('other-aud'))).reason).toBe('audience');
	});

	it.each([
		[{ status: 401, body: { error: 'invalid_client' } }, 'answered HTTP 401 (invalid_client)'],
		[{ status: 502, body: '<html>' }, 'answered HTTP 502'],
		[{ status: 200, body: 'not json' }, 'did not answer an introspection response'],
		[{ status: 200, body: { active: 'yes' } }, 'did not answer an introspection response'],
	])('answers 503 when the endpoint answers %j (the URL only in the detail)', async (answer, problem) => {
		const { verify, endpoint } = setup();
		endpoint.answer = () => answer;
		const error = await verify('t').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(AuthServerUnavailableError);
		expect(error).toMatchObject({
			status: 503,
			message: `The token introspection endpoint ${problem}`,
			detail: `The token introspection endpoint ${URL_} ${problem}`,
		});
	});

	// Attack list (issue 16): the 503 repeated the configured URL with its user:pass and query token.
	it('answers 503 when the endpoint cannot be reached, naming neither the URL nor its secrets', async () => {
		const secretUrl = 'https://rs:pa55w0rd@auth.example.test/introspect?api_key=k3y';
		const config = compileInboundOAuth2({
			verification: 'introspection',
			introspectionUrl: secretUrl,
			introspectionClientId: 'a',
			introspectionClientSecret: 'b',
		});
		const http = async () => {
			throw new Error(`getaddrinfo ENOTFOUND for ${secretUrl}`);
		};
		const error = (await authenticateBearer(config, 'Bearer t', { http, webhookPath: 'p' }).catch((e: unknown) => e)) as AuthServerUnavailableError;
		expect(error).toBeInstanceOf(AuthServerUnavailableError);
		const callerSees = JSON.stringify({ body: error.toBody(), headers: error.headers });
		expect(callerSees).toBe(
			'{"body":{"error":{"code":"AUTH_SERVER_UNAVAILABLE","message":"The token introspection endpoint could not be reached"}},"headers":{"Retry-After":"5"}}',
		);
		expect(error.detail).toBe('The token introspection endpoint https://auth.example.test/introspect could not be reached');
	});
});
