/**
 * Idempotency: where a request's event id is, and how long a repeated delivery of that event is
 * answered from the first one. Platforms retry deliveries (a timeout, a 5xx on their side); with
 * an event id the store remembers what the first delivery did and a retry inside the window
 * writes nothing and answers the original state, so a retry never doubles a `sum`.
 *
 * The source is a header name (`webhook-id`, `X-GitHub-Delivery`, `Idempotency-Key`) or, starting
 * with `$`, a JsonPath into the request data (`$.id`, `$.event.id`). The store keeps the keys (in
 * the same transaction as the write, so it holds across processes); this file only extracts.
 */
import { ConfigurationError, ProfileWebhookError, type ValidationIssue } from '../errors';
import { compileFieldSelector, type CompiledFieldSelector } from '../mapping/fieldSelector';
import { firstString } from './firstString';
import type { RequestData } from './requestData';

export const DEFAULT_IDEMPOTENCY_WINDOW_SECONDS = 86_400;
/** Longest event id kept; longer ones are refused (a key is stored per delivery). */
export const MAX_EVENT_ID_LENGTH = 200;
/** RFC 9110 token characters: what a header name can be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface IdempotencySource {
	/** `header`: a header name (lower-cased); `jsonPath`: a JsonPath into the request data. */
	kind: 'header' | 'jsonPath';
	/** As configured. */
	field: string;
}

export interface CompiledIdempotency {
	source: IdempotencySource;
	windowMs: number;
	/** The event id of a request, or undefined when it carries none. */
	eventId(request: { headers: Record<string, string | string[] | undefined> }, data: RequestData): string | undefined;
}

/** The options' idempotency settings; undefined when no key is configured. */
export function compileIdempotency(
	key: string | undefined,
	windowSeconds: number | undefined,
	issues: ValidationIssue[] = [],
): CompiledIdempotency | undefined {
	const field = key?.trim() ?? '';
	if (!field) return undefined;
	const window = windowSeconds ?? DEFAULT_IDEMPOTENCY_WINDOW_SECONDS;
	if (!Number.isInteger(window) || window < 1 || window > 30 * 86_400) {
		issues.push({ target: 'Idempotency Window (Seconds)', message: 'must be a whole number from 1 to 2592000 (30 days)' });
		return undefined;
	}
	let eventId: CompiledIdempotency['eventId'];
	let source: IdempotencySource;
	if (field.startsWith('$')) {
		let selector: CompiledFieldSelector;
		try {
			selector = compileFieldSelector(field, 'Idempotency Key');
		} catch (error) {
			if (!(error instanceof ConfigurationError)) throw error;
			issues.push(...error.issues);
			return undefined;
		}
		source = { kind: 'jsonPath', field };
		eventId = (_request, data) => scalar(selector.selectRaw(data), field);
	} else {
		if (!HEADER_NAME.test(field)) {
			issues.push({
				target: 'Idempotency Key',
				message: `${JSON.stringify(field)} is neither a header name nor a JsonPath (starting with $)`,
			});
			return undefined;
		}
		const name = field.toLowerCase();
		source = { kind: 'header', field };
		eventId = (request) => checked(firstString(request.headers[name]), field);
	}
	return { source, windowMs: window * 1000, eventId };
}

/** `compiled.eventId(request, data)`; undefined when idempotency is off or the request has no id. */
export function eventIdOf(
	compiled: Pick<CompiledIdempotency, 'eventId'> | undefined,
	request: { headers: Record<string, string | string[] | undefined> },
	data: RequestData,
): string | undefined {
	return compiled?.eventId(request, data);
}

/** One string or number; several different values are a malformed request. */
function scalar(values: unknown[], field: string): string | undefined {
	const ids = [...new Set(values.filter((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))).map(String))];
	if (ids.length > 1) {
		throw new ProfileWebhookError(400, 'BAD_REQUEST', `The idempotency key ${field} selects several event ids in this request`);
	}
	return checked(ids[0]?.trim() || undefined, field);
}

function checked(id: string | undefined, field: string): string | undefined {
	if (id !== undefined && id.length > MAX_EVENT_ID_LENGTH) {
		throw new ProfileWebhookError(
			400,
			'BAD_REQUEST',
			`The event id in ${field} is longer than ${MAX_EVENT_ID_LENGTH} characters`,
		);
	}
	return id;
}
