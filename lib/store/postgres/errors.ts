/** What a `pg` error means for a transaction: retry it, or the store is unavailable (503). */

/** SQLSTATEs after which the whole transaction is run again. */
const RETRYABLE = new Set([
	'40001', // serialization_failure
	'40P01', // deadlock_detected
]);

/**
 * SQLSTATE classes and codes that say the server cannot serve now: connection exceptions (08),
 * insufficient resources (53: too many connections, disk full), operator intervention (57: shutdown,
 * starting up, crash recovery), system errors (58).
 */
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];

/** Node socket errors of an unreachable server. */
const NETWORK_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ETIMEDOUT',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EPIPE',
	'ENOENT',
]);

function codeOf(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const code = (error as { code?: unknown }).code;
	return typeof code === 'string' ? code : undefined;
}

export function isRetryable(error: unknown): boolean {
	const code = codeOf(error);
	return code !== undefined && RETRYABLE.has(code);
}

export function isUnavailable(error: unknown): boolean {
	const code = codeOf(error);
	if (code !== undefined) {
		if (NETWORK_CODES.has(code)) return true;
		if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_CLASSES.includes(code.slice(0, 2));
	}
	if (error instanceof Error) {
		// pg's own messages when the socket ends or the pool waits too long; they carry no code.
		return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Connection ended|not queryable/i.test(
			error.message,
		);
	}
	return false;
}

/** The part of a pg error a message may show (no query text, no parameters). */
export function describe(error: unknown): string {
	if (error instanceof Error) {
		const code = codeOf(error);
		return code ? `${error.message} (${code})` : error.message;
	}
	return String(error);
}
