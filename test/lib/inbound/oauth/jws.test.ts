import { createHmac, createSecretKey, generateKeyPairSync, sign } from 'node:crypto';

import { keyFitsAlgorithm, publicKeyFromJwk, verifyJwsSignature } from '../../../../lib/inbound/oauth/jws';
import { ecKey, rsaKey } from './keys';

const input = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0';
const data = Buffer.from(input);

describe('verifyJwsSignature', () => {
	const rsa = rsaKey('r');
	const ec = ecKey('e');
	const secret = createSecretKey(Buffer.from('0123456789abcdef0123456789abcdef'));

	it('verifies RS256, ES256 (raw r||s) and HS256, and nothing else signed over other data', () => {
		const rs = sign('sha256', data, rsa.privateKey);
		const es = sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
		const hs = createHmac('sha256', secret).update(input).digest();
		expect(es).toHaveLength(64);
		expect(verifyJwsSignature('RS256', rsa.publicKey, input, rs)).toBe(true);
		expect(verifyJwsSignature('ES256', ec.publicKey, input, es)).toBe(true);
		expect(verifyJwsSignature('HS256', secret, input, hs)).toBe(true);
		expect(verifyJwsSignature('RS256', rsa.publicKey, `${input}x`, rs)).toBe(false);
		expect(verifyJwsSignature('ES256', ec.publicKey, `${input}x`, es)).toBe(false);
		expect(verifyJwsSignature('HS256', secret, `${input}x`, hs)).toBe(false);
		expect(verifyJwsSignature('HS256', secret, input, hs.subarray(0, 31))).toBe(false);
	});

	it('refuses algorithm confusion: an HMAC keyed with the RSA public key never verifies', () => {
		const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
		const forged = createHmac('sha256', pem).update(input).digest();
		expect(verifyJwsSignature('HS256', rsa.publicKey, input, forged)).toBe(false);
		expect(keyFitsAlgorithm(rsa.publicKey, 'HS256')).toBe(false);
		expect(keyFitsAlgorithm(secret, 'RS256')).toBe(false);
		expect(keyFitsAlgorithm(ec.publicKey, 'RS256')).toBe(false);
		expect(keyFitsAlgorithm(rsa.publicKey, 'ES256')).toBe(false);
	});

	it('refuses DER-encoded ECDSA signatures, short RSA keys and curves other than P-256', () => {
		const der = sign('sha256', data, ec.privateKey);
		expect(verifyJwsSignature('ES256', ec.publicKey, input, der)).toBe(false);
		const short = rsaKey('short', 1024);
		expect(verifyJwsSignature('RS256', short.publicKey, input, sign('sha256', data, short.privateKey))).toBe(false);
		const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
		expect(keyFitsAlgorithm(p384.publicKey, 'ES256')).toBe(false);
	});

	it('does not throw for garbage signatures', () => {
		expect(verifyJwsSignature('RS256', rsa.publicKey, input, Buffer.from('nope'))).toBe(false);
		expect(verifyJwsSignature('ES256', ec.publicKey, input, Buffer.alloc(64))).toBe(false);
	});
});

describe('publicKeyFromJwk', () => {
	it('makes public keys of RSA and EC entries, even when a JWKS wrongly holds the private part', () => {
		const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
		const withPrivate = { ...privateKey.export({ format: 'jwk' }), kid: 'leaky' };
		expect(withPrivate.d).toBeDefined();
		expect(publicKeyFromJwk(withPrivate)?.type).toBe('public');
		expect(publicKeyFromJwk(ecKey('e').jwk)?.asymmetricKeyType).toBe('ec');
	});

	it('ignores symmetric, encryption-only, unknown and broken entries', () => {
		expect(publicKeyFromJwk({ kty: 'oct', k: 'c2VjcmV0' })).toBeUndefined();
		expect(publicKeyFromJwk({ ...rsaKey('r').jwk, use: 'enc' })).toBeUndefined();
		expect(publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' })).toBeUndefined();
		expect(publicKeyFromJwk({ kty: 'RSA', n: 'AQAB' })).toBeUndefined();
		expect(publicKeyFromJwk({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' })).toBeUndefined();
	});
});
