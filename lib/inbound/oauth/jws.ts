/**
 * JWS signature verification with node:crypto for exactly three algorithms. Each algorithm is
 * bound to one kind of key, so a token cannot choose how it is checked: an HS256 token is never
 * checked with an RSA public key as HMAC secret, an RS256 token never with a shared secret.
 */
import {
	createHmac,
	createPublicKey,
	timingSafeEqual,
	verify,
	type JsonWebKey,
	type KeyObject,
} from 'node:crypto';

export type JwsAlgorithm = 'RS256' | 'ES256' | 'HS256';
export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = ['RS256', 'ES256'];

export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
	return value === 'RS256' || value === 'ES256' || value === 'HS256';
}

/** Whether a key may verify signatures of the algorithm (its type, curve and size). */
export function keyFitsAlgorithm(key: KeyObject, alg: JwsAlgorithm): boolean {
	switch (alg) {
		case 'HS256':
			return key.type === 'secret';
		case 'RS256':
			return (
				key.type === 'public' &&
				key.asymmetricKeyType === 'rsa' &&
				(key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
			);
		case 'ES256':
			return (
				key.type === 'public' &&
				key.asymmetricKeyType === 'ec' &&
				key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
			);
	}
}

/**
 * Verifies `signature` over `signingInput`. False for a wrong signature and for a key that does
 * not fit the algorithm; never throws for attacker-controlled input.
 */
export function verifyJwsSignature(
	alg: JwsAlgorithm,
	key: KeyObject,
	signingInput: string,
	signature: Buffer,
): boolean {
	if (!keyFitsAlgorithm(key, alg)) return false;
	const data = Buffer.from(signingInput, 'ascii');
	try {
		switch (alg) {
			case 'HS256': {
				const expected = createHmac('sha256', key).update(data).digest();
				return signature.length === expected.length && timingSafeEqual(signature, expected);
			}
			case 'RS256':
				return verify('sha256', data, key, signature);
			case 'ES256':
				// JWS carries ECDSA signatures as raw r||s (RFC 7518 section 3.4), 64 bytes for P-256.
				return (
					signature.length === 64 &&
					verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
				);
		}
	} catch {
		return false;
	}
}

export interface PublicJwk {
	kty?: unknown;
	kid?: unknown;
	alg?: unknown;
	use?: unknown;
	[name: string]: unknown;
}

/**
 * A public verification key from a JWKS entry, or undefined for entries that can never verify
 * anything here: symmetric (`oct`) keys, encryption keys, unknown key types, private parts only.
 */
export function publicKeyFromJwk(jwk: PublicJwk): KeyObject | undefined {
	if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') return undefined;
	if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
	// Only the public members: a JWKS that wrongly publishes `d` must not yield a private key.
	const names = jwk.kty === 'RSA' ? ['n', 'e'] : ['crv', 'x', 'y'];
	const members: JsonWebKey = { kty: jwk.kty };
	for (const name of names) {
		const value = jwk[name];
		if (typeof value !== 'string' || !value) return undefined;
		members[name] = value;
	}
	try {
		return createPublicKey({ key: members, format: 'jwk' });
	} catch {
		return undefined;
	}
}
