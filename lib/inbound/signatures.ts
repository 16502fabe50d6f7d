/**
 * Signed webhooks: an HMAC-SHA256 over the raw body, as three common senders compute it.
 *
 * - Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
 *   `webhook-signature: v1,<base64> [v1,<base64> ...]` over `<id>.<timestamp>.<body>`; the secret
 *   is `whsec_` + base64 of the key bytes. Several signatures in the header let the sender rotate.
 * - Stripe-style: `Stripe-Signature: t=<timestamp>,v1=<hex>[,v1=<hex>...]` over
 *   `<timestamp>.<body>`; the secret string itself (with its `whsec_`) is the key.
 * - GitHub-style: `X-Hub-Signature-256: sha256=<hex>` over the body; the secret string is the key.
 *   It carries no timestamp, so there is no replay window: pair it with idempotency on
 *   `X-GitHub-Delivery`.
 *
 * Every configured secret is tried (rotation on the receiving side). Comparisons are constant
 * time. A request whose timestamp is further than the tolerance from now is refused before any
 * HMAC is computed. Messages say what was wrong and never contain a secret or a signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import { ConfigurationError, ProfileWebhookError, type ValidationIssue } from '../errors';
import { firstString } from './firstString';

export type SignatureScheme = 'standardWebhooks' | 'stripe' | 'github';
export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = ['standardWebhooks', 'stripe', 'github'];
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** What the trigger's options say (the secrets come from the credential). */
export interface SignatureRule {
	scheme: SignatureScheme;
	toleranceSeconds: number;
}

export interface SignedRequest {
	headers: Record<string, string | string[] | undefined>;
	/** The body exactly as received (n8n's `req.rawBody`). */
	rawBody?: Buffer;
}

const SCHEME_NAMES: Record<SignatureScheme, string> = {
	standardWebhooks: 'Standard Webhooks',
	stripe: 'Stripe-style',
	github: 'GitHub-style',
};

/** Shortest key accepted: 128 bits. */
const MIN_KEY_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The options' signature settings, checked; undefined when requests are not signed. */
export function compileSignatureRule(
	scheme: string | undefined,
	toleranceSeconds: number | undefined,
	issues: ValidationIssue[],
): SignatureRule | undefined {
	if (!scheme || scheme === 'none') return undefined;
	if (!(SIGNATURE_SCHEMES as readonly string[]).includes(scheme)) {
		issues.push({ target: 'Signature', message: `${JSON.stringify(scheme)} is not a signature scheme` });
		return undefined;
	}
	const tolerance = toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
	if (!Number.isInteger(tolerance) || tolerance < 1 || tolerance > 86_400) {
		issues.push({ target: 'Signature Tolerance (Seconds)', message: 'must be a whole number from 1 to 86400' });
		return undefined;
	}
	return { scheme: scheme as SignatureScheme, toleranceSeconds: tolerance };
}

/** The credential's secrets as HMAC keys; throws ConfigurationError naming what is wrong. */
export function signingKeys(scheme: SignatureScheme, secrets: readonly string[]): Buffer[] {
	const issues: ValidationIssue[] = [];
	const keys: Buffer[] = [];
	const present = secrets.map((s) => s.trim()).filter(Boolean);
	if (!present.length) {
		throw new ConfigurationError([{ target: 'Signing Secret', message: 'is required to check signed requests' }]);
	}
	present.forEach((secret, index) => {
		const target = index === 0 ? 'Signing Secret' : 'Previous Signing Secret';
		let key: Buffer;
		if (scheme === 'standardWebhooks') {
			const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
			if (!BASE64.test(encoded)) {
				issues.push({ target, message: 'is not a Standard Webhooks secret (whsec_ followed by base64)' });
				return;
			}
			key = Buffer.from(encoded, 'base64');
		} else {
			key = Buffer.from(secret, 'utf8');
		}
		if (key.length < MIN_KEY_BYTES) {
			issues.push({ target, message: `is too short (at least ${MIN_KEY_BYTES} bytes)` });
			return;
		}
		keys.push(key);
	});
	if (issues.length) throw new ConfigurationError(issues);
	return keys;
}

function unauthorized(message: string): ProfileWebhookError {
	return new ProfileWebhookError(401, 'UNAUTHORIZED', message);
}

function hmac(key: Buffer, ...parts: Array<string | Buffer>): Buffer {
	const mac = createHmac('sha256', key);
	for (const part of parts) mac.update(part);
	return mac.digest();
}

/** Constant-time: true when any received signature equals the expected one of any key. */
function anyMatches(expected: Buffer[], received: Buffer[]): boolean {
	let match = false;
	for (const mac of expected) {
		for (const candidate of received) {
			if (candidate.length === mac.length && timingSafeEqual(candidate, mac)) match = true;
		}
	}
	return match;
}

function checkTimestamp(text: string | undefined, header: string, rule: SignatureRule, nowMs: number): string {
	if (text === undefined || !/^\d{1,12}$/.test(text)) {
		throw unauthorized(
			text === undefined
				? `No ${header}: this webhook accepts only signed requests (${SCHEME_NAMES[rule.scheme]})`
				: `The ${header} is not a Unix time in seconds`,
		);
	}
	const skew = Math.abs(nowMs / 1000 - Number(text));
	if (skew > rule.toleranceSeconds) {
		throw unauthorized(
			`The signature's timestamp is ${Math.round(skew)} s away from now, more than the ${rule.toleranceSeconds} s tolerated (a replayed or delayed request)`,
		);
	}
	return text;
}

const header = (request: SignedRequest, name: string) => firstString(request.headers[name])?.trim();
const MISMATCH = 'The signature does not match the body (wrong secret, or the body was changed on the way)';

/**
 * Accepts a correctly signed request or throws a 401 ProfileWebhookError saying what was wrong.
 * Runs before the body is parsed or anything is written.
 */
export function verifySignature(
	rule: SignatureRule,
	keys: readonly Buffer[],
	request: SignedRequest,
	nowMs: number,
): void {
	const body = request.rawBody;
	if (!Buffer.isBuffer(body)) {
		throw unauthorized('The request body could not be read as sent, so its signature cannot be checked (multipart bodies are not supported with signatures)');
	}
	switch (rule.scheme) {
		case 'standardWebhooks': {
			const id = header(request, 'webhook-id');
			const signatures = header(request, 'webhook-signature');
			if (!id || !signatures) {
				throw unauthorized(
					`No ${!id ? 'webhook-id' : 'webhook-signature'} header: this webhook accepts only signed requests (Standard Webhooks)`,
				);
			}
			const timestamp = checkTimestamp(header(request, 'webhook-timestamp'), 'webhook-timestamp header', rule, nowMs);
			const received = signatures
				.split(' ')
				.filter((s) => s.startsWith('v1,'))
				.map((s) => Buffer.from(s.slice(3), 'base64'));
			if (!received.length) throw unauthorized('The webhook-signature header holds no v1 signature');
			const expected = keys.map((key) => hmac(key, `${id}.${timestamp}.`, body));
			if (!anyMatches(expected, received)) throw unauthorized(MISMATCH);
			return;
		}
		case 'stripe': {
			const value = header(request, 'stripe-signature');
			if (!value) throw unauthorized('No Stripe-Signature header: this webhook accepts only signed requests (Stripe-style)');
			const pairs = value.split(',').map((part) => {
				const eq = part.indexOf('=');
				return eq < 0 ? ['', ''] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
			});
			const t = pairs.filter(([k]) => k === 't').map(([, v]) => v);
			if (t.length !== 1) throw unauthorized('The Stripe-Signature header must hold exactly one t= timestamp');
			const timestamp = checkTimestamp(t[0], 'Stripe-Signature timestamp', rule, nowMs);
			const received = pairs
				.filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/i.test(v))
				.map(([, v]) => Buffer.from(v, 'hex'));
			if (!received.length) throw unauthorized('The Stripe-Signature header holds no v1 signature');
			const expected = keys.map((key) => hmac(key, `${timestamp}.`, body));
			if (!anyMatches(expected, received)) throw unauthorized(MISMATCH);
			return;
		}
		case 'github': {
			const value = header(request, 'x-hub-signature-256');
			if (!value) throw unauthorized('No X-Hub-Signature-256 header: this webhook accepts only signed requests (GitHub-style)');
			const match = /^sha256=([0-9a-f]{64})$/i.exec(value);
			if (!match) throw unauthorized('The X-Hub-Signature-256 header is not sha256=<64 hex digits>');
			const expected = keys.map((key) => hmac(key, body));
			if (!anyMatches(expected, [Buffer.from(match[1], 'hex')])) throw unauthorized(MISMATCH);
			return;
		}
	}
}
