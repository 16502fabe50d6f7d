/**
 * API key authentication for incoming requests (what is emitted is redacted by ./redaction).
 * Messages never contain the key, expected or received.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { ConfigurationError, ProfileWebhookError } from '../errors';
import { firstString } from './firstString';

export const DEFAULT_API_KEY_HEADER = 'X-API-Key';
/** BlueConic's URL parameter name for the key. */
export const DEFAULT_API_KEY_QUERY_PARAMETER = 'apiKey';

export interface VerifyApiKeyInput {
	/** The key the caller must send (from the credential). Empty is a configuration error. */
	expected: string;
	/** The header's value as Node gives it (a repeated header may arrive as string[]). */
	headerValue: string | string[] | undefined;
	/** The URL parameter's value as parsed (string, string[] or anything a query parser makes). */
	queryValue?: unknown;
	/** Whether the key may come in the URL (`options.allowApiKeyInUrl`). */
	allowInUrl: boolean;
	/** The header name, for messages. Default `X-API-Key`. */
	headerName?: string;
	/** The URL parameter name, for messages. Default `apiKey`. */
	queryName?: string;
}

/**
 * Checks the API key of a request; returns when it is right, throws otherwise.
 * The header wins when both are sent. Throws `ProfileWebhookError(401, 'UNAUTHORIZED')` when the
 * key is missing, wrong, or sent in the URL while that is not allowed, and `ConfigurationError`
 * when `expected` is empty (an empty key must never let everyone in).
 * The comparison is constant-time over SHA-256 digests, so keys of any length compare safely.
 */
export function verifyApiKey(input: VerifyApiKeyInput): void {
	const headerName = input.headerName || DEFAULT_API_KEY_HEADER;
	const queryName = input.queryName || DEFAULT_API_KEY_QUERY_PARAMETER;
	if (typeof input.expected !== 'string' || input.expected === '') {
		throw new ConfigurationError([
			{ target: 'apiKey', message: 'the credential has no API key; set one to protect this webhook' },
		]);
	}

	const fromHeader = firstString(input.headerValue);
	if (fromHeader !== undefined) {
		if (!keysEqual(fromHeader, input.expected)) throw unauthorized('The API key is invalid');
		return;
	}

	const fromQuery = firstString(input.queryValue);
	if (fromQuery !== undefined) {
		if (!input.allowInUrl) {
			throw unauthorized(
				'The API key was sent in the URL but this webhook does not accept keys in the URL; ' +
					`send it in the ${headerName} header`,
			);
		}
		if (!keysEqual(fromQuery, input.expected)) throw unauthorized('The API key is invalid');
		return;
	}

	throw unauthorized(
		input.allowInUrl
			? `No API key: send it in the ${headerName} header or the ${queryName} URL parameter`
			: `No API key: send it in the ${headerName} header`,
	);
}

function unauthorized(message: string): ProfileWebhookError {
	return new ProfileWebhookError(401, 'UNAUTHORIZED', message);
}

function digest(value: string): Buffer {
	return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time equality; hashing first gives equal lengths, so timingSafeEqual cannot throw. */
function keysEqual(received: string, expected: string): boolean {
	return timingSafeEqual(digest(received), digest(expected));
}
