/**
 * JWT access token verification: algorithm from an allowlist bound to the key source, signature,
 * then claims. The order matters: nothing from a token is believed before its signature holds.
 */
import type { KeyObject } from 'node:crypto';

import { checkClaims, type AcceptedClaims, type ClaimRules } from './claims';
import { TokenRefusedError } from './errors';
import type { HttpFetch } from './http';
import type { JwksCache } from './jwks';
import { decodeJwt } from './jwt';
import { verifyJwsSignature, type JwsAlgorithm } from './jws';

export type JwtKeySource =
	/** Public keys from a JWKS; only asymmetric algorithms (RS256, ES256) can ever apply. */
	| { kind: 'jwks'; jwks: JwksCache; algorithms: readonly JwsAlgorithm[] }
	/** One shared secret; HS256 only. */
	| { kind: 'secret'; key: KeyObject };

export interface JwtVerification {
	keys: JwtKeySource;
	rules: ClaimRules;
}

/** `typ` values of access tokens (RFC 9068 and the common generic one); others are refused. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt']);

function allowedAlgorithms(keys: JwtKeySource): readonly JwsAlgorithm[] {
	return keys.kind === 'secret'
		? ['HS256']
		: keys.algorithms.filter((a) => a === 'RS256' || a === 'ES256');
}

export async function verifyJwt(
	token: string,
	verification: JwtVerification,
	http: HttpFetch,
	nowMs: number,
): Promise<AcceptedClaims> {
	const { header, payload, signingInput, signature } = decodeJwt(token);
	const alg = header.alg;
	if (typeof alg !== 'string' || !alg) {
		throw new TokenRefusedError('malformed', 'The access token names no signing algorithm (alg)');
	}
	if (alg.toLowerCase() === 'none') {
		throw new TokenRefusedError('alg_none', 'The access token is unsigned (alg "none"); unsigned tokens are refused');
	}
	const allowed = allowedAlgorithms(verification.keys);
	if (!(allowed as readonly string[]).includes(alg)) {
		throw new TokenRefusedError(
			'algorithm',
			`The access token is signed with ${JSON.stringify(alg)}, which this webhook does not accept (accepted: ${allowed.join(', ')})`,
		);
	}
	const algorithm = alg as JwsAlgorithm;
	if (header.crit !== undefined) {
		throw new TokenRefusedError('malformed', 'The access token uses critical header extensions (crit) this webhook does not understand');
	}
	if (header.typ !== undefined && !ACCESS_TOKEN_TYPES.has(String(header.typ).toLowerCase())) {
		throw new TokenRefusedError('malformed', `The token's type (typ) is ${JSON.stringify(header.typ)}, not an access token`);
	}

	let candidates: KeyObject[];
	if (verification.keys.kind === 'secret') {
		candidates = [verification.keys.key];
	} else {
		const kid = header.kid;
		if (kid !== undefined && typeof kid !== 'string') {
			throw new TokenRefusedError('malformed', 'The access token\'s key id (kid) is not a string');
		}
		const { jwks } = verification.keys;
		const lookup = await jwks.lookup(kid, algorithm, http);
		if ('unknownKid' in lookup) {
			throw new TokenRefusedError(
				'unknown_key',
				`The access token is signed with an unknown key: kid ${JSON.stringify(lookup.unknownKid)} is not in the JWKS at ${jwks.url}`,
			);
		}
		if ('noKeyFor' in lookup) {
			throw new TokenRefusedError('unknown_key', `The JWKS at ${jwks.url} holds no ${algorithm} key for this access token`);
		}
		if ('kidWrongType' in lookup) {
			throw new TokenRefusedError(
				'algorithm',
				`The access token says ${algorithm}, but its key ${JSON.stringify(lookup.kidWrongType)} cannot verify ${algorithm} signatures`,
			);
		}
		candidates = lookup.found;
	}
	if (!candidates.some((key) => verifyJwsSignature(algorithm, key, signingInput, signature))) {
		throw new TokenRefusedError('signature', "The access token's signature is invalid");
	}
	return checkClaims(payload, verification.rules, nowMs);
}
