/**
 * Delivery with retries: network errors, 429 and 5xx are retried with exponential backoff and
 * jitter, `Retry-After` is honoured; any other answer (2xx, 3xx, other 4xx) is final.
 */
import { ConfigurationError } from '../errors';

/** What one attempt gave: an HTTP answer (`status`, `headers`) or a network `error`. */
export interface Outcome {
	status?: number;
	headers?: Readonly<Record<string, string | readonly string[] | number | undefined>>;
	error?: unknown;
}

/**
 * `full`: a random delay between 0 and the backoff; `equal`: half the backoff plus a random
 * half; `none`: the backoff itself (for tests and predictable schedules).
 */
export type Jitter = 'full' | 'equal' | 'none';

export interface RetryInfo {
	/** The attempt that failed, from 1. */
	attempt: number;
	/** How long until the next attempt. */
	delayMs: number;
	outcome: Outcome;
	/** The server's `Retry-After`, in milliseconds, when it sent a usable one. */
	retryAfterMs?: number;
}

export interface RetryOptions {
	/** Attempts after the first one; 0 sends once. */
	retries: number;
	/** The backoff before the first retry; it doubles for each further retry. */
	baseDelayMs: number;
	/** No wait is ever longer, whether from the backoff or from `Retry-After`. */
	maxDelayMs: number;
	/** Default `full`. */
	jitter?: Jitter;
	/** Default: a timer. Tests pass one that records the delays. */
	sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
	/** Default `Date.now`; used for `Retry-After` dates. */
	now?: () => number;
	/** Default `Math.random`; in [0, 1). */
	random?: () => number;
	/** Stops waiting and retrying: `sendWithRetries` then rejects with the signal's reason. */
	signal?: AbortSignal;
	/** Which errors without an HTTP status are worth another attempt. Default: all of them. */
	isRetryableError?: (error: unknown) => boolean;
	/** Called before each wait, for logging. */
	onRetry?: (info: RetryInfo) => void;
}

export interface RetryResult extends Outcome {
	/** How many attempts were made, from 1. */
	attempts: number;
	/** The waits before each retry, in order. */
	delaysMs: number[];
}

/** 429 and every 5xx are worth another attempt; every other status is the answer. */
export function isRetryableStatus(status: number): boolean {
	return status === 429 || (status >= 500 && status <= 599);
}

function headerValue(headers: Outcome['headers'], name: string): string | undefined {
	if (!headers) return undefined;
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() !== name) continue;
		const first = Array.isArray(value) ? (value as readonly string[])[0] : value;
		return first === undefined ? undefined : String(first);
	}
	return undefined;
}

/** Starts with a day name: IMF-fixdate, RFC 850 and asctime dates all do. */
const HTTP_DATE = /^[A-Za-z]{3,9},?\s/;
const HAS_ZONE = /\b(GMT|UTC|Z)\b|[+-]\d{4}\b/;

/**
 * A `Retry-After` header value in milliseconds from `now`: delay-seconds (`"120"`) or an HTTP
 * date (`"Wed, 21 Oct 2015 07:28:00 GMT"`; a date in the past is 0). Undefined when absent or
 * not understood.
 */
export function parseRetryAfter(
	value: string | readonly string[] | number | undefined,
	now: number = Date.now(),
): number | undefined {
	const raw = Array.isArray(value) ? (value as readonly string[])[0] : value;
	if (raw === undefined || raw === null) return undefined;
	const text = String(raw).trim();
	if (/^\d+$/.test(text)) return Number(text) * 1000;
	if (!HTTP_DATE.test(text)) return undefined;
	// asctime dates carry no zone; HTTP dates are always GMT.
	const date = Date.parse(HAS_ZONE.test(text) ? text : `${text} GMT`);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - now);
}

/** The wait before retry number `retry` (from 1), before `Retry-After` is considered. */
export function backoffDelay(
	retry: number,
	options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'jitter'>,
	random: () => number = Math.random,
): number {
	const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
	switch (options.jitter ?? 'full') {
		case 'none':
			return Math.round(cap);
		case 'equal':
			return Math.round(cap / 2 + random() * (cap / 2));
		default:
			return Math.round(random() * cap);
	}
}

function abortReason(signal: AbortSignal): unknown {
	return signal.reason ?? new Error('Aborted');
}

/** A timer that an abort signal cuts short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) {
			reject(abortReason(signal));
			return;
		}
		const onAbort = (): void => {
			clearTimeout(timer);
			reject(abortReason(signal as AbortSignal));
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

function checkOptions(options: RetryOptions): void {
	const issues = [];
	if (!Number.isInteger(options.retries) || options.retries < 0) {
		issues.push({ target: 'retries', message: 'must be a whole number, 0 or more' });
	}
	if (!Number.isFinite(options.baseDelayMs) || options.baseDelayMs < 0) {
		issues.push({ target: 'baseDelayMs', message: 'must be a number of milliseconds, 0 or more' });
	}
	if (!Number.isFinite(options.maxDelayMs) || options.maxDelayMs < 0) {
		issues.push({ target: 'maxDelayMs', message: 'must be a number of milliseconds, 0 or more' });
	}
	if (options.jitter !== undefined && !['full', 'equal', 'none'].includes(options.jitter)) {
		issues.push({ target: 'jitter', message: 'must be full, equal or none' });
	}
	if (issues.length) throw new ConfigurationError(issues);
}

/**
 * Runs `attempt(1)`, and again while the outcome is a network error, a 429 or a 5xx, at most
 * `retries` more times. The wait is the server's `Retry-After` when it gave one (capped by
 * `maxDelayMs`), otherwise exponential backoff with jitter. An `attempt` that throws counts as a
 * network error. Returns the last outcome; it never throws for an HTTP or network failure (only
 * when `signal` aborts).
 */
export async function sendWithRetries(
	attempt: (attemptNumber: number) => Promise<Outcome>,
	options: RetryOptions,
): Promise<RetryResult> {
	checkOptions(options);
	const wait = options.sleep ?? sleep;
	const now = options.now ?? Date.now;
	const random = options.random ?? Math.random;
	const isRetryableError = options.isRetryableError ?? (() => true);
	const delaysMs: number[] = [];

	for (let attemptNumber = 1; ; attemptNumber++) {
		if (options.signal?.aborted) throw abortReason(options.signal);
		let outcome: Outcome;
		try {
			outcome = await attempt(attemptNumber);
		} catch (error) {
			outcome = { error };
		}

		const retryable =
			outcome.status !== undefined
				? isRetryableStatus(outcome.status)
				: outcome.error !== undefined && isRetryableError(outcome.error);
		if (!retryable || attemptNumber > options.retries) {
			return { ...outcome, attempts: attemptNumber, delaysMs };
		}

		const retryAfterMs =
			outcome.status !== undefined ? parseRetryAfter(headerValue(outcome.headers, 'retry-after'), now()) : undefined;
		const delayMs =
			retryAfterMs !== undefined ? Math.min(retryAfterMs, options.maxDelayMs) : backoffDelay(attemptNumber, options, random);
		delaysMs.push(delayMs);
		options.onRetry?.({ attempt: attemptNumber, delayMs, outcome, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
		await wait(delayMs, options.signal);
	}
}
