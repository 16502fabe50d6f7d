/**
 * Keys, tokens and an in-memory JWKS endpoint for the oauth unit tests. Tokens are signed here
 * with node:crypto directly, independently of the code under test.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

import type { HttpFetch, HttpRequest } from '../../../../lib/inbound/oauth';

export interface TestKey {
	kid: string;
	alg: 'RS256' | 'ES256';
	privateKey: KeyObject;
	publicKey: KeyObject;
	jwk: Record<string, unknown>;
}

export function rsaKey(kid: string, modulusLength = 2048): TestKey {
	const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
	return { kid, alg: 'RS256', privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

export function ecKey(kid: string): TestKey {
	const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
	return { kid, alg: 'ES256', privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
}

export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signWith(key: TestKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
	const input = `${b64({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header })}.${b64(claims)}`;
	const signature =
		key.alg === 'RS256'
			? sign('sha256', Buffer.from(input), key.privateKey)
			: sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
	return `${input}.${signature.toString('base64url')}`;
}

export function signHmac(secret: string | Buffer, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
	const input = `${b64({ alg: 'HS256', typ: 'at+jwt', ...header })}.${b64(claims)}`;
	return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
export const nowSeconds = () => Math.floor(NOW / 1000);

/** A settable clock for every cache and check. */
export function testClock(start = NOW): { now: () => number; advance: (ms: number) => void } {
	let t = start;
	return { now: () => t, advance: (ms) => (t += ms) };
}

export interface FakeServer {
	http: HttpFetch;
	requests: HttpRequest[];
	/** What the JWKS URL answers now. */
	jwks: { keys: Array<Record<string, unknown>> };
	respond?: (request: HttpRequest) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
}

/** An HttpFetch that serves a JWKS (changeable) and whatever `respond` says for other URLs. */
export function fakeServer(keys: TestKey[] = []): FakeServer {
	const server: FakeServer = {
		requests: [],
		jwks: { keys: keys.map((k) => k.jwk) },
		http: async (request) => {
			server.requests.push(request);
			if (server.respond) return await server.respond(request);
			return { status: 200, body: JSON.stringify(server.jwks) };
		},
	};
	return server;
}
