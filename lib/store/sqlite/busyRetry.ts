/**
 * Retrying a SQLite transaction that found the database locked by another process. SQLite's own
 * busy_timeout already waits inside each statement; this bounds the rare cases it gives up (or that
 * bypass it) and keeps each wait short, since node:sqlite blocks the event loop while it waits.
 */
import { StoreUnavailableError } from '../StoreUnavailableError';

const SQLITE_BUSY = 5;

/** SQLITE_BUSY and its extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT). */
export function isBusyError(error: unknown): boolean {
	if (typeof error !== 'object' || error === null) return false;
	const code = (error as { errcode?: unknown }).errcode;
	return typeof code === 'number' && (code & 0xff) === SQLITE_BUSY;
}

/** Grows from 5 ms to 200 ms, jittered so competing processes do not retry in step. */
function backoffMs(attempt: number): number {
	return Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
}

function giveUp(error: unknown, waitedMs: number): StoreUnavailableError {
	return new StoreUnavailableError(
		`the profile store stayed busy for ${Math.round(waitedMs)} ms (other writers hold the lock); retry later`,
		error,
	);
}

export async function retryWhileBusy<T>(operation: () => T | Promise<T>, maxWaitMs: number): Promise<T> {
	const started = Date.now();
	for (let attempt = 0; ; attempt++) {
		try {
			return await operation();
		} catch (error) {
			if (!isBusyError(error)) throw error;
			const waited = Date.now() - started;
			if (waited >= maxWaitMs) throw giveUp(error, waited);
			await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
		}
	}
}

/** The same for opening a store, where there is no promise to wait on. */
export function retryWhileBusySync<T>(operation: () => T, maxWaitMs: number): T {
	const started = Date.now();
	const sleeper = new Int32Array(new SharedArrayBuffer(4));
	for (let attempt = 0; ; attempt++) {
		try {
			return operation();
		} catch (error) {
			if (!isBusyError(error)) throw error;
			const waited = Date.now() - started;
			if (waited >= maxWaitMs) throw giveUp(error, waited);
			Atomics.wait(sleeper, 0, 0, backoffMs(attempt));
		}
	}
}
