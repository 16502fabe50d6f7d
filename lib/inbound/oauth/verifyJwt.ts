/**
 * JWT access token verification with jose: the algorithm from an allowlist bound to the key source
 * (a JWKS only ever verifies RS256/ES256, a shared secret only HS256, so a token cannot choose how
 * it is checked), the signature, exp and nbf with the clock skew; then our claim rules (issuer,
 * audience, scopes). The header is read first only to answer with a precise reason; nothing from
 * the payload is believed before jose has verified the signature.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

import { ProfileWebhookError } from '../../errors';
import { checkClaims, describeTime, type AcceptedClaims, type ClaimRules } from './claims';
import { TokenRefusedError } from './errors';
import { displayUrl, type HttpFetch } from './http';
import type { HeldKeys, JwksCache } from './jwks';

export type JwsAlgorithm = 'RS256' | 'ES256' | 'HS256';

export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
	return value === 'RS256' || value === 'ES256' || value === 'HS256';
}

export type JwtKeySource =
	/** Public keys from a JWKS; only asymmetric algorithms (RS256, ES256) can ever apply. */
	| { kind: 'jwks'; jwks: JwksCache; algorithms: readonly JwsAlgorithm[] }
	/** One shared secret; HS256 only. */
	| { kind: 'secret'; key: Uint8Array };

export interface JwtVerification {
	keys: JwtKeySource;
	rules: ClaimRules;
}

/** `typ` values of access tokens (RFC 9068 and the common generic one); others are refused. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt']);
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function allowedAlgorithms(keys: JwtKeySource): JwsAlgorithm[] {
	return keys.kind === 'secret' ? ['HS256'] : keys.algorithms.filter((a) => a === 'RS256' || a === 'ES256');
}

/** Whether the value has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
	return COMPACT_JWS.test(token);
}

/** The header, checked for what this webhook accepts; throws TokenRefusedError otherwise. */
function checkHeader(token: string, allowed: readonly JwsAlgorithm[]): { alg: JwsAlgorithm; kid?: string } {
	if (!looksLikeJwt(token)) throw new TokenRefusedError('malformed', 'The access token is not a JWT');
	let header: Record<string, unknown>;
	try {
		header = decodeProtectedHeader(token) as Record<string, unknown>;
	} catch {
		throw new TokenRefusedError('malformed', "The access token's header is not a JSON object");
	}
	const { alg, kid, crit, typ } = header;
	if (typeof alg !== 'string' || !alg) {
		throw new TokenRefusedError('malformed', 'The access token names no signing algorithm (alg)');
	}
	if (alg.toLowerCase() === 'none') {
		throw new TokenRefusedError('alg_none', 'The access token is unsigned (alg "none"); unsigned tokens are refused');
	}
	if (!(allowed as readonly string[]).includes(alg)) {
		throw new TokenRefusedError(
			'algorithm',
			`The access token is signed with ${JSON.stringify(alg)}, which this webhook does not accept (accepted: ${allowed.join(', ')})`,
		);
	}
	if (crit !== undefined) {
		throw new TokenRefusedError('malformed', 'The access token uses critical header extensions (crit) this webhook does not understand');
	}
	if (typ !== undefined && !ACCESS_TOKEN_TYPES.has(String(typ).toLowerCase())) {
		throw new TokenRefusedError('malformed', `The token's type (typ) is ${JSON.stringify(typ)}, not an access token`);
	}
	if (kid !== undefined && typeof kid !== 'string') {
		throw new TokenRefusedError('malformed', "The access token's key id (kid) is not a string");
	}
	return { alg: alg as JwsAlgorithm, ...(kid !== undefined ? { kid } : {}) };
}

/** jose's refusals as ours; messages never repeat the token. Our own errors (503) pass through. */
function refusal(error: unknown): ProfileWebhookError {
	if (error instanceof ProfileWebhookError) return error;
	if (error instanceof errors.JWTExpired) {
		return new TokenRefusedError('expired', `The access token expired at ${describeTime(error.payload.exp)}`);
	}
	if (error instanceof errors.JWTClaimValidationFailed) {
		if (error.claim === 'nbf' && error.reason === 'check_failed') {
			return new TokenRefusedError('not_yet_valid', `The access token is not valid before ${describeTime(error.payload.nbf)}`);
		}
		return new TokenRefusedError('malformed', `The access token's ${error.claim} claim is not valid`);
	}
	if (error instanceof errors.JWSSignatureVerificationFailed) {
		return new TokenRefusedError('signature', "The access token's signature is invalid");
	}
	if (error instanceof errors.JOSEAlgNotAllowed) {
		return new TokenRefusedError('algorithm', 'The access token is signed with an algorithm this webhook does not accept');
	}
	if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
		return new TokenRefusedError('malformed', 'The access token is not a well-formed JWT');
	}
	// Key material jose will not use (a short RSA key, a private key in the JWKS): not verified.
	return new TokenRefusedError('signature', "The access token's signature could not be verified");
}

/** jose's verification; several keys matching a kid-less token are each tried (jose leaves that to us). */
async function joseVerify(
	token: string,
	key: Uint8Array | JWTVerifyGetKey,
	algorithms: string[],
	verification: JwtVerification,
	nowMs: number,
): Promise<JWTPayload> {
	const options = {
		algorithms,
		currentDate: new Date(nowMs),
		clockTolerance: verification.rules.clockSkewSeconds,
	};
	try {
		const { payload } =
			key instanceof Uint8Array ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
		return payload;
	} catch (error) {
		if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
		let last: unknown = new errors.JWSSignatureVerificationFailed();
		for await (const candidate of error) {
			try {
				return (await jwtVerify(token, candidate, options)).payload;
			} catch (attempt) {
				last = attempt;
				if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) break;
			}
		}
		throw last;
	}
}

/** Entries that could ever verify something here (RSA or EC signing keys). */
function signingEntries(held: HeldKeys, kid: string) {
	return held.entries.filter(
		(k) => k.kid === kid && (k.kty === 'RSA' || k.kty === 'EC') && (k.use === undefined || k.use === 'sig'),
	);
}

export async function verifyJwt(
	token: string,
	verification: JwtVerification,
	http: HttpFetch,
	nowMs: number,
): Promise<AcceptedClaims> {
	const allowed = allowedAlgorithms(verification.keys);
	const { alg, kid } = checkHeader(token, allowed);
	let payload: JWTPayload;
	try {
		if (verification.keys.kind === 'secret') {
			payload = await joseVerify(token, verification.keys.key, ['HS256'], verification, nowMs);
		} else {
			const { jwks } = verification.keys;
			let held = await jwks.keys(http);
			try {
				payload = await joseVerify(token, held.getKey, allowed, verification, nowMs);
			} catch (error) {
				if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
				// A key the set lacks: perhaps a rotation. One more fetch, unless within the cooldown.
				if (!(kid !== undefined && signingEntries(held, kid).length) && (await jwks.refreshForUnknownKey(http))) {
					held = await jwks.keys(http);
					payload = await joseVerify(token, held.getKey, allowed, verification, nowMs).catch((again: unknown) => {
						throw again instanceof errors.JWKSNoMatchingKey ? unknownKey(held, alg, kid, jwks.url) : again;
					});
				} else {
					throw unknownKey(held, alg, kid, jwks.url);
				}
			}
		}
	} catch (error) {
		throw refusal(error);
	}
	return checkClaims(payload as Record<string, unknown>, verification.rules, nowMs);
}

function unknownKey(held: HeldKeys, alg: JwsAlgorithm, kid: string | undefined, url: string): TokenRefusedError {
	if (kid !== undefined && signingEntries(held, kid).length) {
		return new TokenRefusedError(
			'algorithm',
			`The access token says ${alg}, but its key ${JSON.stringify(kid)} cannot verify ${alg} signatures`,
		);
	}
	const detail = `(JWKS at ${displayUrl(url)})`;
	return kid !== undefined
		? new TokenRefusedError(
				'unknown_key',
				`The access token is signed with an unknown key: kid ${JSON.stringify(kid)} is not in the authorization server's key set`,
				[],
				`kid ${JSON.stringify(kid)} is not in the key set ${detail}`,
			)
		: new TokenRefusedError(
				'unknown_key',
				`The authorization server's key set holds no ${alg} key for this access token`,
				[],
				`no ${alg} key ${detail}`,
			);
}
