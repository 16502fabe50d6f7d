/**
 * Tells a credential that cannot produce a token (wrong client secret, refresh token refused,
 * never connected) from a failed request: the first is not worth retrying and needs the user,
 * so it gets a message that names the credential and says what to do.
 */
import { RefreshTokenError } from './refreshTokenExchange';

export interface CredentialFailure {
	/** The OAuth error code the token endpoint answered (RFC 6749 section 5.2), when there was one. */
	oauthError?: string;
	/** The token endpoint's error_description, or the library's message. */
	detail: string;
	/** The stored grant is gone (refused refresh token, never connected): only the user can fix it. */
	reconnect: boolean;
}

/** How deep to follow `cause`: n8n wraps request errors two or three times. */
const MAX_DEPTH = 8;

/**
 * n8n-core's own messages for an OAuth2 credential that is not connected or cannot refresh; they
 * come as plain errors without an OAuth error code.
 */
const N8N_RECONNECT_MESSAGES = [
	/^OAuth credentials not connected$/,
	/no refresh token is available/i,
	/needs to be reconnected/i,
];

function asRecord(value: unknown): Record<string, unknown> | undefined {
	return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

/** The credential failure somewhere in `error`'s cause chain, or undefined for any other error. */
export function findCredentialFailure(error: unknown): CredentialFailure | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < MAX_DEPTH && current !== undefined && current !== null; depth++) {
		// The token endpoint refused the request (4xx: an OAuth error). A 5xx or an odd 2xx may be
		// passing, and is worth a retry.
		if (current instanceof RefreshTokenError) {
			if (current.tokenEndpointStatus < 400 || current.tokenEndpointStatus >= 500) return undefined;
			return {
				oauthError: current.oauthError,
				detail: current.detail,
				reconnect: current.oauthError === 'invalid_grant',
			};
		}
		const record = asRecord(current);
		if (!record) return undefined;
		// @n8n/client-oauth2's AuthError: the token endpoint answered an OAuth error.
		const body = asRecord(record.body);
		if (record.code === 'EAUTH' && typeof body?.error === 'string') {
			return {
				oauthError: body.error,
				detail: typeof body.error_description === 'string' ? body.error_description : String(record.message ?? body.error),
				reconnect: body.error === 'invalid_grant',
			};
		}
		// n8n-core's "needs to be reconnected" error declares itself a credential failure.
		if (asRecord(record.failure)?.cause === 'credential-invalid') {
			return { detail: String(record.message ?? ''), reconnect: true };
		}
		const message = typeof record.message === 'string' ? record.message : '';
		if (N8N_RECONNECT_MESSAGES.some((pattern) => pattern.test(message))) {
			return { detail: message, reconnect: true };
		}
		current = record.cause;
	}
	return undefined;
}

const ADVICE: Record<string, string> = {
	invalid_client:
		'The token endpoint refused the client: check the client ID, the client secret, and whether they are sent in the header or the body.',
	invalid_grant:
		'The refresh token (or authorization) is no longer valid: it expired, was revoked or was used after rotation.',
	invalid_scope: 'The token endpoint refused the scope: check the Scope field.',
	unauthorized_client: 'This client may not use this grant type at the authorization server.',
	unsupported_grant_type: 'The authorization server does not support this grant type.',
};

/**
 * The message a node shows for a credential failure: which credential, what the token endpoint
 * said, what to do. Never includes a secret (only OAuth error codes and descriptions).
 */
export function describeCredentialFailure(
	failure: CredentialFailure,
	credential: { name?: string; typeDisplayName: string; renewWhat: string },
): string {
	const label = credential.name
		? `"${credential.name}" (${credential.typeDisplayName})`
		: `of type "${credential.typeDisplayName}"`;
	const code = failure.oauthError ? `${failure.oauthError}: ` : '';
	const said = `${code}${failure.detail}`.trim();
	const advice = failure.oauthError ? ADVICE[failure.oauthError] : undefined;
	const action = failure.reconnect ? ` ${credential.renewWhat}` : '';
	return `The credential ${label} could not get an access token (${said}).${advice ? ` ${advice}` : ''}${action}`;
}
