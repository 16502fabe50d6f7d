/**
 * Compact JWS/JWT parsing and HS256 signing. Parsing is strict (three base64url parts, JSON
 * objects) and trusts nothing: the result is only an input to signature verification.
 */
import { createHmac, type KeyObject } from 'node:crypto';

import { TokenRefusedError } from './errors';

export interface DecodedJwt {
	header: Record<string, unknown>;
	payload: Record<string, unknown>;
	/** `base64url(header) + "." + base64url(payload)`: what the signature covers. */
	signingInput: string;
	signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function base64url(data: Buffer | string): string {
	return Buffer.from(data).toString('base64url');
}

/** True when the value has the shape of a compact JWS (three dot-separated base64url parts). */
export function looksLikeJwt(token: string): boolean {
	const parts = token.split('.');
	return parts.length === 3 && parts.every((p) => BASE64URL.test(p)) && parts[0].length > 0;
}

function jsonPart(part: string, what: string): Record<string, unknown> {
	let value: unknown;
	try {
		value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
	} catch {
		value = undefined;
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		throw new TokenRefusedError('malformed', `The access token's ${what} is not a JSON object`);
	}
	return value as Record<string, unknown>;
}

/** Splits and parses a compact JWT. Throws TokenRefusedError('malformed') for anything else. */
export function decodeJwt(token: string): DecodedJwt {
	const parts = token.split('.');
	if (parts.length === 5) {
		throw new TokenRefusedError('malformed', 'The access token is encrypted (JWE); only signed JWTs are accepted');
	}
	if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p)) || !parts[0] || !parts[1]) {
		throw new TokenRefusedError('malformed', 'The access token is not a well-formed JWT');
	}
	return {
		header: jsonPart(parts[0], 'header'),
		payload: jsonPart(parts[1], 'payload'),
		signingInput: `${parts[0]}.${parts[1]}`,
		signature: Buffer.from(parts[2], 'base64url'),
	};
}

/** A compact HS256 JWS over the given header fields and claims. */
export function signHs256(
	claims: Record<string, unknown>,
	key: KeyObject,
	header: Record<string, unknown> = {},
): string {
	const signingInput = `${base64url(JSON.stringify({ ...header, alg: 'HS256' }))}.${base64url(JSON.stringify(claims))}`;
	const signature = createHmac('sha256', key).update(signingInput).digest();
	return `${signingInput}.${base64url(signature)}`;
}
