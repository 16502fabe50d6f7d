/**
 * Signed webhooks. Vectors: the Standard Webhooks reference libraries' tests
 * (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts), GitHub's
 * documentation example ("Validating webhook deliveries"), and a Stripe-style vector computed with
 * `openssl dgst -sha256 -hmac`, independently of this code. The clock is a number passed in.
 */
import { ConfigurationError, ProfileWebhookError } from '../../../lib/errors';
import {
	compileSignatureRule,
	signingKeys,
	verifySignature,
	type SignatureRule,
	type SignatureScheme,
	type SignedRequest,
} from '../../../lib/inbound/signatures';

// Standard Webhooks reference vector.
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SW_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SW_TIMESTAMP = 1614265330;
const SW_BODY = '{"test": 2432232314}';
const SW_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

// GitHub's documented example.
const GH_SECRET = "It's a Secret to Everybody";
const GH_BODY = 'Hello, World!';
const GH_SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

// Stripe-style, from openssl: printf '1614265330.<body>' | openssl dgst -sha256 -hmac <secret>
const ST_SECRET = 'whsec_test_0123456789abcdef0123';
const ST_BODY = '{"id":"evt_1","type":"charge.succeeded"}';
const ST_V1 = '92491407b1e9a07468b10b465886b03e24a7118e24cc250ea4f706990392caa4';

const AT = SW_TIMESTAMP * 1000;

function rule(scheme: SignatureScheme, toleranceSeconds = 300): SignatureRule {
	return { scheme, toleranceSeconds };
}

function check(
	scheme: SignatureScheme,
	secrets: string[],
	headers: Record<string, string>,
	body: string | undefined,
	nowMs = AT,
	toleranceSeconds = 300,
): ProfileWebhookError | undefined {
	const request: SignedRequest = { headers, ...(body === undefined ? {} : { rawBody: Buffer.from(body) }) };
	try {
		verifySignature(rule(scheme, toleranceSeconds), signingKeys(scheme, secrets), request, nowMs);
		return undefined;
	} catch (error) {
		expect(error).toBeInstanceOf(ProfileWebhookError);
		return error as ProfileWebhookError;
	}
}

const swHeaders = (signature = SW_SIGNATURE, timestamp = SW_TIMESTAMP) => ({
	'webhook-id': SW_ID,
	'webhook-timestamp': String(timestamp),
	'webhook-signature': signature,
});

describe('Standard Webhooks', () => {
	it('accepts the specification\'s vector, with and without the whsec_ prefix', () => {
		expect(check('standardWebhooks', [SW_SECRET], swHeaders(), SW_BODY)).toBeUndefined();
		expect(check('standardWebhooks', [SW_SECRET.slice(6)], swHeaders(), SW_BODY)).toBeUndefined();
	});

	it('accepts a header with several signatures when one is right (the sender rotating)', () => {
		const sigs = [
			'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
			'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
			SW_SIGNATURE,
			'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
		].join(' ');
		expect(check('standardWebhooks', [SW_SECRET], swHeaders(sigs), SW_BODY)).toBeUndefined();
	});

	it('accepts when any configured secret is right (the receiver rotating)', () => {
		const other = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
		expect(check('standardWebhooks', [other, SW_SECRET], swHeaders(), SW_BODY)).toBeUndefined();
		expect(check('standardWebhooks', [other], swHeaders(), SW_BODY)?.message).toMatch(/does not match/);
	});

	it.each([
		['a changed body', swHeaders(), `${SW_BODY} `, /does not match/],
		['an invalid signature', swHeaders('v1,dawfeoifkpqwoekfpqoekf'), SW_BODY, /does not match/],
		['a partial signature', swHeaders(SW_SIGNATURE.slice(0, 8)), SW_BODY, /does not match/],
		['an empty v1', swHeaders('v1,'), SW_BODY, /does not match/],
		['only other versions', swHeaders('v2,abc'), SW_BODY, /holds no v1 signature/],
		['another id', { ...swHeaders(), 'webhook-id': 'msg_other' }, SW_BODY, /does not match/],
		['no id', { 'webhook-timestamp': String(SW_TIMESTAMP), 'webhook-signature': SW_SIGNATURE }, SW_BODY, /No webhook-id header/],
		['no signature', { 'webhook-id': SW_ID, 'webhook-timestamp': String(SW_TIMESTAMP) }, SW_BODY, /No webhook-signature header/],
		['no timestamp', { 'webhook-id': SW_ID, 'webhook-signature': SW_SIGNATURE }, SW_BODY, /No webhook-timestamp header/],
		['a timestamp that is not a number', swHeaders(SW_SIGNATURE, 'hello' as unknown as number), SW_BODY, /not a Unix time/],
	])('refuses %s with 401', (_label, headers, body, message) => {
		const error = check('standardWebhooks', [SW_SECRET], headers as Record<string, string>, body);
		expect(error?.status).toBe(401);
		expect(error?.code).toBe('UNAUTHORIZED');
		expect(error?.message).toMatch(message);
	});

	it('refuses a stale or future timestamp beyond the tolerance, accepts one at its edge', () => {
		expect(check('standardWebhooks', [SW_SECRET], swHeaders(), SW_BODY, AT + 300_000)).toBeUndefined();
		expect(check('standardWebhooks', [SW_SECRET], swHeaders(), SW_BODY, AT - 300_000)).toBeUndefined();
		const stale = check('standardWebhooks', [SW_SECRET], swHeaders(), SW_BODY, AT + 301_000);
		expect(stale?.status).toBe(401);
		expect(stale?.message).toBe(
			"The signature's timestamp is 301 s away from now, more than the 300 s tolerated (a replayed or delayed request)",
		);
		expect(check('standardWebhooks', [SW_SECRET], swHeaders(), SW_BODY, AT - 301_000)?.status).toBe(401);
		expect(check('standardWebhooks', [SW_SECRET], swHeaders(), SW_BODY, AT + 30_000, 10)?.status).toBe(401);
	});

	it('refuses a request whose raw body is not available', () => {
		expect(check('standardWebhooks', [SW_SECRET], swHeaders(), undefined)?.message).toMatch(/could not be read as sent/);
	});
});

describe('Stripe-style', () => {
	const stripeHeader = (extra = '') => ({ 'stripe-signature': `t=${SW_TIMESTAMP},v1=${ST_V1}${extra}` });

	it('accepts the openssl vector, also among other v1 and v0 signatures', () => {
		expect(check('stripe', [ST_SECRET], stripeHeader(), ST_BODY)).toBeUndefined();
		const many = { 'stripe-signature': `t=${SW_TIMESTAMP},v1=${'0'.repeat(64)},v1=${ST_V1},v0=${'1'.repeat(64)}` };
		expect(check('stripe', [ST_SECRET], many, ST_BODY)).toBeUndefined();
	});

	it('uses the secret as it is, whsec_ included (unlike Standard Webhooks)', () => {
		expect(check('stripe', [ST_SECRET.slice(6)], stripeHeader(), ST_BODY)?.message).toMatch(/does not match/);
	});

	it.each([
		['a changed body', stripeHeader(), `${ST_BODY}\n`, /does not match/],
		['no header', {}, ST_BODY, /No Stripe-Signature header/],
		['no timestamp', { 'stripe-signature': `v1=${ST_V1}` }, ST_BODY, /exactly one t= timestamp/],
		['two timestamps', { 'stripe-signature': `t=1,t=${SW_TIMESTAMP},v1=${ST_V1}` }, ST_BODY, /exactly one t= timestamp/],
		['no v1', { 'stripe-signature': `t=${SW_TIMESTAMP},v0=${ST_V1}` }, ST_BODY, /holds no v1 signature/],
		['a stale timestamp', { 'stripe-signature': `t=${SW_TIMESTAMP - 301},v1=${ST_V1}` }, ST_BODY, /more than the 300 s tolerated/],
	])('refuses %s with 401', (_label, headers, body, message) => {
		const error = check('stripe', [ST_SECRET], headers as Record<string, string>, body);
		expect(error?.status).toBe(401);
		expect(error?.message).toMatch(message);
	});
});

describe('GitHub-style', () => {
	it("accepts GitHub's documented example", () => {
		expect(check('github', [GH_SECRET], { 'x-hub-signature-256': GH_SIGNATURE }, GH_BODY)).toBeUndefined();
		expect(check('github', [GH_SECRET], { 'x-hub-signature-256': GH_SIGNATURE.toUpperCase().replace('SHA256', 'sha256') }, GH_BODY)).toBeUndefined();
	});

	it.each([
		['a changed body', { 'x-hub-signature-256': GH_SIGNATURE }, 'Hello, World?', /does not match/],
		['the SHA-1 header only', { 'x-hub-signature': 'sha1=abc' }, GH_BODY, /No X-Hub-Signature-256 header/],
		['a malformed value', { 'x-hub-signature-256': 'sha256=xyz' }, GH_BODY, /is not sha256=<64 hex digits>/],
	])('refuses %s with 401', (_label, headers, body, message) => {
		const error = check('github', [GH_SECRET], headers, body);
		expect(error?.status).toBe(401);
		expect(error?.message).toMatch(message);
	});

	it('never puts a secret or the expected signature in a message', () => {
		const error = check('github', [GH_SECRET], { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, GH_BODY);
		expect(error?.message).not.toContain('Secret');
		expect(error?.message).not.toContain('757107ea');
	});
});

describe('configuration', () => {
	it('compiles the option, with a 300 s default tolerance, and none for "none"', () => {
		const issues: never[] = [];
		expect(compileSignatureRule('stripe', undefined, issues)).toEqual({ scheme: 'stripe', toleranceSeconds: 300 });
		expect(compileSignatureRule('none', 10, issues)).toBeUndefined();
		expect(compileSignatureRule(undefined, 10, issues)).toBeUndefined();
		expect(issues).toEqual([]);
	});

	it('names a bad scheme or tolerance', () => {
		const issues: Array<{ target: string; message: string }> = [];
		compileSignatureRule('hmac', undefined, issues);
		compileSignatureRule('github', 0, issues);
		expect(issues).toEqual([
			{ target: 'Signature', message: '"hmac" is not a signature scheme' },
			{ target: 'Signature Tolerance (Seconds)', message: 'must be a whole number from 1 to 86400' },
		]);
	});

	it('refuses missing, short and non-base64 secrets, naming which one', () => {
		expect(() => signingKeys('github', ['', ' '])).toThrow('Signing Secret: is required to check signed requests');
		expect(() => signingKeys('github', ['short'])).toThrow(ConfigurationError);
		let error: unknown;
		try {
			signingKeys('standardWebhooks', [SW_SECRET, 'whsec_not base64!']);
		} catch (e) {
			error = e;
		}
		expect((error as ConfigurationError).issues).toEqual([
			{ target: 'Previous Signing Secret', message: 'is not a Standard Webhooks secret (whsec_ followed by base64)' },
		]);
	});
});
