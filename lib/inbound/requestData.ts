/**
 * What an incoming request carries, in one of three shapes the mappings read:
 * - `json`: a JSON body (`application/json`, `application/*+json`, or `text/plain` holding JSON);
 * - `form`: an `application/x-www-form-urlencoded` body, by exact field name (`form`) and nested
 *   (`data`, so JsonPath works on `data[merges][EMAIL]` as `$.data.merges.EMAIL`);
 * - `query`: no body (GET, or an empty POST): the URL parameters, shaped like a form.
 *
 * n8n has already parsed the body by exact content type: JSON into a value, form-urlencoded into
 * a flat object (Node's `querystring.parse`), text/plain into a string; anything else is only in
 * `rawBody`. This module reuses what n8n parsed and parses `rawBody` itself where n8n did not.
 */
import { ProfileWebhookError } from '../errors';
import { assertDepth, DEFAULT_LIMITS } from '../profiles/limits';

/** A form or query field: one value, or several when the name was repeated. */
export type FormValue = string | string[];
export type FormFields = Record<string, FormValue>;

export type RequestData =
	| { kind: 'json'; data: unknown }
	| { kind: 'form'; data: Record<string, unknown>; form: FormFields }
	| { kind: 'query'; data: Record<string, unknown>; form: FormFields };

export type RequestDataKind = RequestData['kind'];

export interface RequestDataInput {
	method: string;
	/** The Content-Type, bare (`application/json`) or with parameters (`...; charset=utf-8`). */
	contentType?: string;
	/** What n8n parsed (`req.body`). */
	body: unknown;
	/** The bytes as received (`req.rawBody`), when n8n kept them. */
	rawBody?: Buffer;
	/** The URL parameters as parsed (`req.query`), flat or nested. */
	query: Record<string, unknown>;
	/** The largest body accepted, in bytes; no limit when undefined or not positive. */
	maxBodySize?: number;
	/** The deepest nesting accepted in a JSON body (default: the engine's limit, 64). */
	maxDepth?: number;
}

/**
 * URL and form names that carry credentials: never request data, so no mapping (not even `$.*`)
 * can copy them into a profile (DESIGN 2.2).
 */
export const CREDENTIAL_FIELDS: readonly string[] = ['apiKey', 'access_token'];

/** What the error for an unreadable content type lists as accepted. */
export const ACCEPTED_CONTENT_TYPES =
	'application/json, application/*+json, application/x-www-form-urlencoded, or text/plain holding JSON';

/**
 * Reads a request into `RequestData`.
 * Throws `ProfileWebhookError`:
 * - 413 `PAYLOAD_TOO_LARGE` when the body is larger than `maxBodySize` (checked first);
 * - 400 `MALFORMED_BODY` when a JSON body does not parse (with the parser's message), or a
 *   text/plain body is not JSON;
 * - 415 `UNSUPPORTED_MEDIA_TYPE` for any other content type (XML, multipart, ...), or a body
 *   without a content type that is not JSON.
 * GET and HEAD requests, and requests with an empty body, give the `query` kind.
 */
export function readRequestData(input: RequestDataInput): RequestData {
	const method = input.method.toUpperCase();
	if (method === 'GET' || method === 'HEAD') return fromQuery(input.query);

	const size = bodySize(input);
	if (input.maxBodySize !== undefined && input.maxBodySize > 0 && size > input.maxBodySize) {
		throw new ProfileWebhookError(
			413,
			'PAYLOAD_TOO_LARGE',
			`The request body is ${size} bytes; this webhook accepts at most ${input.maxBodySize} bytes`,
		);
	}
	if (isEmptyBody(input)) return fromQuery(input.query);

	const type = mediaType(input.contentType);
	const depth = { maxDepth: input.maxDepth ?? DEFAULT_LIMITS.maxDepth };
	const json = (data: unknown): RequestData => {
		assertDepth(data, depth);
		return { kind: 'json', data };
	};
	if (type === 'application/json' || /^application\/[^/]+\+json$/.test(type)) {
		return json(jsonBody(input, type));
	}
	if (type === 'application/x-www-form-urlencoded') {
		const form = withoutCredentials(formBody(input));
		return { kind: 'form', data: nestFormFields(form), form };
	}
	if (type === 'text/plain') {
		const text = textOf(input);
		return json(parseJson(text, 'The text/plain request body is not JSON'));
	}
	if (type === '') {
		// No content type: a body that is JSON is read as JSON (curl and many tools omit it).
		const text = textOf(input);
		let data: unknown;
		try {
			data = JSON.parse(stripBom(text)) as unknown;
		} catch {
			throw unsupported('The request has a body but no Content-Type');
		}
		return json(data);
	}
	throw unsupported(`The content type ${type} is not supported`);
}

function unsupported(start: string): ProfileWebhookError {
	return new ProfileWebhookError(
		415,
		'UNSUPPORTED_MEDIA_TYPE',
		`${start}; send ${ACCEPTED_CONTENT_TYPES}`,
	);
}

/** The bare, lower-case media type: `Application/JSON; charset=utf-8` -> `application/json`. */
export function mediaType(contentType: string | undefined): string {
	if (!contentType) return '';
	return contentType.split(';')[0].trim().toLowerCase();
}

function bodySize(input: RequestDataInput): number {
	if (input.rawBody) return input.rawBody.length;
	if (typeof input.body === 'string') return Buffer.byteLength(input.body, 'utf8');
	// Without the raw bytes the size of a parsed body is unknown; n8n's own limit still applies.
	return 0;
}

function isEmptyBody(input: RequestDataInput): boolean {
	if (input.rawBody) return input.rawBody.length === 0 || input.rawBody.toString('utf8').trim() === '';
	const { body } = input;
	if (body === undefined || body === null) return true;
	if (typeof body === 'string') return body.trim() === '';
	if (Buffer.isBuffer(body)) return body.length === 0;
	if (typeof body === 'object' && !Array.isArray(body)) return Object.keys(body).length === 0;
	return false;
}

function jsonBody(input: RequestDataInput, type: string): unknown {
	const { body } = input;
	// n8n parsed application/json already; only +json types (and unparsed bodies) need parsing.
	if (type === 'application/json' && body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
		if (!(input.rawBody && isPlainEmptyObject(body))) return body;
	}
	return parseJson(textOf(input), 'The request body is not valid JSON');
}

function isPlainEmptyObject(value: unknown): boolean {
	return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

function textOf(input: RequestDataInput): string {
	if (typeof input.body === 'string') return input.body;
	if (Buffer.isBuffer(input.body)) return input.body.toString('utf8');
	if (input.rawBody) return input.rawBody.toString('utf8');
	return '';
}

function stripBom(text: string): string {
	return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseJson(text: string, what: string): unknown {
	try {
		return JSON.parse(stripBom(text)) as unknown;
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new ProfileWebhookError(400, 'MALFORMED_BODY', `${what}: ${reason}`);
	}
}

function formBody(input: RequestDataInput): FormFields {
	const { body } = input;
	if (body && typeof body === 'object' && !Buffer.isBuffer(body) && !Array.isArray(body)) {
		if (!(input.rawBody && isPlainEmptyObject(body))) return flattenFormFields(body as Record<string, unknown>);
	}
	return parseUrlEncoded(textOf(input));
}

/** Parses `a=1&b=2&a=3` the way Node's querystring does: flat names, repeated names as arrays. */
export function parseUrlEncoded(text: string): FormFields {
	const fields: FormFields = {};
	for (const [name, value] of new URLSearchParams(text)) addField(fields, name, value);
	return fields;
}

function addField(fields: FormFields, name: string, value: string): void {
	if (!Object.hasOwn(fields, name)) {
		defineOwn(fields, name, value);
		return;
	}
	const existing = fields[name];
	defineOwn(fields, name, Array.isArray(existing) ? [...existing, value] : [existing, value]);
}

function fromQuery(query: Record<string, unknown> | undefined): RequestData {
	const form = withoutCredentials(flattenFormFields(query ?? {}));
	return { kind: 'query', data: nestFormFields(form), form };
}

function withoutCredentials(fields: FormFields): FormFields {
	for (const name of CREDENTIAL_FIELDS) delete fields[name];
	return fields;
}

/**
 * Flat field names for a form or query object: already-flat objects (querystring) are kept as
 * they are; nested objects (from a qs-style parser) become bracket names again
 * (`{ data: { merges: { EMAIL: 'x' } } }` -> `data[merges][EMAIL]`, arrays `a[0]`, `a[1]`).
 * Values become strings; null and undefined are dropped.
 */
export function flattenFormFields(source: Record<string, unknown>): FormFields {
	const fields: FormFields = {};
	const visit = (name: string, value: unknown): void => {
		if (value === undefined || value === null) return;
		if (Array.isArray(value)) {
			if (value.every((v) => v === null || typeof v !== 'object')) {
				const strings = value.filter((v) => v !== null && v !== undefined).map((v) => String(v));
				for (const s of strings) addField(fields, name, s);
				return;
			}
			value.forEach((v, i) => visit(`${name}[${i}]`, v));
			return;
		}
		if (typeof value === 'object') {
			for (const [key, v] of Object.entries(value)) visit(`${name}[${key}]`, v);
			return;
		}
		addField(fields, name, String(value));
	};
	for (const [key, value] of Object.entries(source)) visit(key, value);
	return fields;
}

/** Deeper bracket names than this are kept as one literal name. */
const MAX_FORM_DEPTH = 32;
const INDEX_KEY = /^(0|[1-9][0-9]{0,8})$/;

/**
 * A level of the tree being built. Keys are tagged so they never collide: `n:<name>` for names,
 * `i:<index>` for `[0]`, `a:<n>` for the n-th `[]` append.
 */
type Level = Map<string, TreeNode>;
type TreeNode = { value: FormValue } | { level: Level; appended: number };

/**
 * Nests bracket field names: `data[merges][EMAIL]=x` -> `{ data: { merges: { EMAIL: 'x' } } }`.
 * `a[]` appends (each value of a repeated `a[]` becomes one element; `a[][x]` starts a new one)
 * and `a[0]`, `a[1]` index. A level whose keys are all indexes or appends becomes an array:
 * indexes in numeric order, then appended values in order, without holes. A name that is not a
 * well-formed bracket name (`a[b`, `[a]`, `a[b]c`) stays one literal top-level key. When a name
 * is both a value and a parent (`a=1&a[b]=2`) the first one seen is kept; the exact flat names
 * stay available in `RequestData.form` either way.
 */
export function nestFormFields(flat: FormFields): Record<string, unknown> {
	const root: TreeNode & { level: Level } = { level: new Map(), appended: 0 };
	for (const [name, value] of Object.entries(flat)) insert(root, splitFormName(name), value);
	return finishObject(root.level);
}

/** `data[merges][EMAIL]` -> ['data', 'merges', 'EMAIL']; `a[]` -> ['a', '']; otherwise [name]. */
function splitFormName(name: string): string[] {
	const open = name.indexOf('[');
	if (open <= 0) return [name];
	const parts = [name.slice(0, open)];
	let i = open;
	while (i < name.length) {
		if (name[i] !== '[') return [name];
		const close = name.indexOf(']', i);
		if (close < 0) return [name];
		const key = name.slice(i + 1, close);
		if (key.includes('[')) return [name];
		parts.push(key);
		i = close + 1;
	}
	return parts.length - 1 > MAX_FORM_DEPTH ? [name] : parts;
}

function insert(root: { level: Level; appended: number }, path: string[], value: FormValue): void {
	let parent = root;
	for (let depth = 0; depth < path.length; depth++) {
		const key = path[depth];
		const isLast = depth === path.length - 1;
		if (depth > 0 && key === '') {
			if (isLast) {
				for (const v of Array.isArray(value) ? value : [value]) {
					parent.level.set(`a:${parent.appended++}`, { value: v });
				}
				return;
			}
			const next = { level: new Map<string, TreeNode>(), appended: 0 };
			parent.level.set(`a:${parent.appended++}`, next);
			parent = next;
			continue;
		}
		const tagged = depth > 0 && INDEX_KEY.test(key) ? `i:${key}` : `n:${key}`;
		const existing = parent.level.get(tagged);
		if (isLast) {
			if (!existing) parent.level.set(tagged, { value });
			return;
		}
		if (existing && 'value' in existing) return; // the first one seen wins
		if (existing) {
			parent = existing;
		} else {
			const next = { level: new Map<string, TreeNode>(), appended: 0 };
			parent.level.set(tagged, next);
			parent = next;
		}
	}
}

function finishNode(node: TreeNode): unknown {
	if ('value' in node) return node.value;
	const keys = [...node.level.keys()];
	if (keys.length > 0 && keys.every((k) => !k.startsWith('n:'))) {
		const order = (k: string): number => (k.startsWith('i:') ? 0 : 1e10) + Number(k.slice(2));
		return keys.sort((a, b) => order(a) - order(b)).map((k) => finishNode(node.level.get(k) as TreeNode));
	}
	return finishObject(node.level);
}

function finishObject(level: Level): Record<string, unknown> {
	const object: Record<string, unknown> = {};
	for (const [tagged, node] of level) {
		let name = tagged.slice(2);
		if (tagged.startsWith('a:')) name = String(Number(name));
		if (Object.hasOwn(object, name)) continue;
		defineOwn(object, name, finishNode(node));
	}
	return object;
}

/** Sets an own enumerable property, also for names such as "__proto__". */
function defineOwn(target: object, key: string, value: unknown): void {
	Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
