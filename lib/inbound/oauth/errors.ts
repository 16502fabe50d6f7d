/**
 * Why a bearer token was refused, as RFC 6750 answers it: 401 with `WWW-Authenticate: Bearer
 * error="invalid_token"` for a token that is not good, 403 `insufficient_scope` for a good token
 * that may not do this, and 401 without an error code when no token came at all (section 3.1).
 * Messages say which check failed and never contain the token.
 */
import { ProfileWebhookError } from '../../errors';

export const BEARER_REALM = 'profile-webhook';

export type TokenRefusalReason =
	| 'missing'
	| 'malformed'
	| 'alg_none'
	| 'algorithm'
	| 'unknown_key'
	| 'signature'
	| 'issuer'
	| 'audience'
	| 'expired'
	| 'not_yet_valid'
	| 'inactive'
	| 'insufficient_scope';

/**
 * Only the characters RFC 6750 allows inside error_description (and scope): double quotes become
 * single ones, backslashes slashes, anything else outside printable ASCII a question mark.
 */
export function headerSafe(text: string, max = 300): string {
	const cleaned = text
		.replace(/"/g, "'")
		.replace(/\\/g, '/')
		.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
	return cleaned.length > max ? `${cleaned.slice(0, max - 3)}...` : cleaned;
}

export class TokenRefusedError extends ProfileWebhookError {
	constructor(
		readonly reason: TokenRefusalReason,
		message: string,
		requiredScopes: readonly string[] = [],
		/** For the workflow's owner (n8n's log), never for the caller. */
		readonly detail?: string,
	) {
		const forbidden = reason === 'insufficient_scope';
		const parts = [`realm="${BEARER_REALM}"`];
		if (reason !== 'missing') {
			parts.push(`error="${forbidden ? 'insufficient_scope' : 'invalid_token'}"`);
			parts.push(`error_description="${headerSafe(message)}"`);
		}
		if (forbidden && requiredScopes.length) parts.push(`scope="${headerSafe(requiredScopes.join(' '))}"`);
		super(forbidden ? 403 : 401, forbidden ? 'FORBIDDEN' : 'UNAUTHORIZED', message, [], {
			'WWW-Authenticate': `Bearer ${parts.join(', ')}`,
		});
		this.name = 'TokenRefusedError';
	}
}

/**
 * The JWKS or the introspection endpoint could not be asked: not the caller's fault, 503. The
 * message goes to an unauthenticated caller and names no URL; `detail` is for the workflow's
 * owner (n8n's log) and names the endpoint without credentials or query.
 */
export class AuthServerUnavailableError extends ProfileWebhookError {
	constructor(
		message: string,
		readonly detail?: string,
		retryAfterSeconds = 5,
	) {
		super(503, 'AUTH_SERVER_UNAVAILABLE', message, [], { 'Retry-After': String(retryAfterSeconds) });
		this.name = 'AuthServerUnavailableError';
	}
}
