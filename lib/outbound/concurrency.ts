/** Bounded parallelism for outgoing requests: the `concurrency` option. */
import { ConfigurationError } from '../errors';

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and resolves with the results in
 * the order of `items` (not the order they finished in). When a call rejects, no further item
 * is started, the calls already in flight are awaited, and the first rejection is thrown; callers
 * that want every item (n8n's continueOnFail) catch inside `fn`.
 */
export async function mapWithConcurrency<T, R>(
	items: readonly T[],
	limit: number,
	fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
	if (!(Number.isInteger(limit) && limit >= 1) && limit !== Number.POSITIVE_INFINITY) {
		throw new ConfigurationError([{ target: 'concurrency', message: 'must be a whole number, 1 or more' }]);
	}
	const results = new Array<R>(items.length);
	let next = 0;
	let failed = false;
	let firstError: unknown;

	const worker = async (): Promise<void> => {
		while (!failed && next < items.length) {
			const index = next++;
			try {
				results[index] = await fn(items[index], index);
			} catch (error) {
				if (!failed) {
					failed = true;
					firstError = error;
				}
			}
		}
	};

	const workers = Math.min(limit, items.length);
	await Promise.all(Array.from({ length: workers }, worker));
	if (failed) throw firstError;
	return results;
}
