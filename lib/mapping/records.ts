/**
 * Batches: one request may carry several records (SendGrid posts an array of events, Braze an
 * `events` array). A records path says where they are; each match is one record, mapped and
 * applied on its own. Without a path the whole request is one record.
 */
import type { RequestData } from '../inbound/requestData';
import { compileJsonPath } from './jsonPath';

export interface CompiledRecordSelector {
	/** The records path as configured, or undefined for "the whole request is one record". */
	readonly path: string | undefined;
	/**
	 * The records in `data` (a JSON body, or the nested form of form fields): each match of the
	 * path, in order; without a path, `[data]`. A path that matches nothing gives [].
	 */
	select(data: unknown): unknown[];
	/**
	 * The records of a request as requests of their own, ready for field selectors: without a
	 * path, `[request]`; with one, each match as `{ kind: 'json', data: match }`, so exact names
	 * are the match's top-level keys and JsonPaths start at the match.
	 */
	selectRequests(request: RequestData): RequestData[];
}

/**
 * Compiles a records path once (`$[*]`, `$.events[*]`, ...). An empty or blank path means no
 * batching. Throws `ConfigurationError` naming the path when it is not a valid JsonPath.
 */
export function compileRecordSelector(
	path: string | undefined,
	target = 'recordsPath',
): CompiledRecordSelector {
	const trimmed = path?.trim();
	if (!trimmed) {
		return {
			path: undefined,
			select: (data) => [data],
			selectRequests: (request) => [request],
		};
	}
	const compiled = compileJsonPath(trimmed, target);
	return {
		path: trimmed,
		select: (data) => compiled.evaluate(data),
		selectRequests: (request) =>
			compiled.evaluate(request.data).map((data): RequestData => ({ kind: 'json', data })),
	};
}
