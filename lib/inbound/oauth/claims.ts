/**
 * The claim checks every accepted token passes, whether its claims come from a verified JWT or
 * from an introspection answer: issuer, audience, expiry and not-before with a clock skew, and
 * the required scopes. Each failure names the check.
 */
import { TokenRefusedError } from './errors';

export interface ClaimRules {
	/** The exact `iss` required; undefined skips the check. */
	issuer?: string;
	/** The token's `aud` must contain one of these; empty skips the check. */
	audiences: readonly string[];
	/** Every one of these must be granted. */
	requiredScopes: readonly string[];
	/** Tolerated clock difference, in seconds. */
	clockSkewSeconds: number;
	/** Whether a token without `exp` is refused (JWT access tokens must carry one, RFC 9068). */
	requireExpiry: boolean;
}

export interface AcceptedClaims {
	subject?: string;
	clientId?: string;
	scopes: string[];
	/** Seconds since the epoch. */
	expiresAt?: number;
}

const quote = (value: unknown) => JSON.stringify(typeof value === 'string' ? value : String(value));

/** Scopes from `scope` (space-separated, RFC 8693/9068) or `scp` (a list, as some servers send). */
export function grantedScopes(claims: Record<string, unknown>): string[] {
	const { scope, scp } = claims;
	if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
	if (Array.isArray(scp)) return scp.filter((s): s is string => typeof s === 'string');
	if (typeof scp === 'string') return scp.split(' ').filter(Boolean);
	return [];
}

/** The largest NumericDate a Date can show (year 275760); anything beyond is not a real time. */
const MAX_NUMERIC_DATE = 8.64e12;

function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
	const value = claims[name];
	if (value === undefined) return undefined;
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		throw new TokenRefusedError('malformed', `The access token's ${name} claim is not a number of seconds`);
	}
	if (Math.abs(value) > MAX_NUMERIC_DATE) {
		throw new TokenRefusedError('malformed', `The access token's ${name} claim is out of range`);
	}
	return value;
}

/** A NumericDate for a message; never throws (new Date(x).toISOString() does when x is huge). */
export function describeTime(seconds: unknown): string {
	if (typeof seconds !== 'number' || !Number.isFinite(seconds) || Math.abs(seconds) > MAX_NUMERIC_DATE) {
		return 'a time out of range';
	}
	return new Date(seconds * 1000).toISOString();
}

export function checkClaims(
	claims: Record<string, unknown>,
	rules: ClaimRules,
	nowMs: number,
): AcceptedClaims {
	const now = nowMs / 1000;
	numericDate(claims, 'iat');
	if (rules.issuer !== undefined && claims.iss !== rules.issuer) {
		throw new TokenRefusedError(
			'issuer',
			claims.iss === undefined
				? `The access token names no issuer (iss); expected ${quote(rules.issuer)}`
				: `The access token was issued by ${quote(claims.iss)}, not by the expected issuer ${quote(rules.issuer)}`,
		);
	}
	if (rules.audiences.length) {
		const aud = claims.aud;
		const audiences = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
		if (!audiences.some((a) => typeof a === 'string' && rules.audiences.includes(a))) {
			throw new TokenRefusedError(
				'audience',
				audiences.length
					? `The access token is meant for ${audiences.map(quote).join(', ')}, not for ${rules.audiences.map(quote).join(' or ')} (wrong audience)`
					: `The access token names no audience (aud); expected ${rules.audiences.map(quote).join(' or ')}`,
			);
		}
	}
	const exp = numericDate(claims, 'exp');
	if (exp === undefined && rules.requireExpiry) {
		throw new TokenRefusedError('malformed', 'The access token has no expiry (exp)');
	}
	// RFC 7519 section 4.1.4: exp is the first moment the token is no longer accepted (as jose).
	if (exp !== undefined && now >= exp + rules.clockSkewSeconds) {
		throw new TokenRefusedError('expired', `The access token expired at ${describeTime(exp)}`);
	}
	const nbf = numericDate(claims, 'nbf');
	if (nbf !== undefined && now + rules.clockSkewSeconds < nbf) {
		throw new TokenRefusedError('not_yet_valid', `The access token is not valid before ${describeTime(nbf)}`);
	}
	const scopes = grantedScopes(claims);
	const missing = rules.requiredScopes.filter((s) => !scopes.includes(s));
	if (missing.length) {
		throw new TokenRefusedError(
			'insufficient_scope',
			`The access token lacks the required scope${missing.length > 1 ? 's' : ''}: ${missing.join(' ')}`,
			rules.requiredScopes,
		);
	}
	return {
		...(typeof claims.sub === 'string' ? { subject: claims.sub } : {}),
		...(typeof claims.client_id === 'string' ? { clientId: claims.client_id } : {}),
		scopes,
		...(exp !== undefined ? { expiresAt: exp } : {}),
	};
}
