/**
 * One redaction policy for everything the nodes emit about a request (incoming trigger items,
 * outgoing request displays): secrets are REMOVED, never masked, so a copy never says more than
 * that nothing secret is shown. Names are compared without case and without `-`/`_`, so
 * `apiKey`, `api_key`, `API-KEY` are one name.
 */

/** Headers that carry credentials whatever the authentication chosen (cookie: an n8n session). */
export const SECRET_HEADER_NAMES: readonly string[] = [
	'authorization',
	'proxy-authorization',
	'cookie',
	'set-cookie',
	'x-api-key',
	'api-key',
	'x-auth-token',
];

/**
 * URL parameters and body fields that carry secrets: API keys, OAuth tokens and client secrets
 * (RFC 6749 / 6750 names), passwords.
 */
export const SECRET_FIELD_NAMES: readonly string[] = [
	'apiKey',
	'key',
	'token',
	'access_token',
	'refresh_token',
	'id_token',
	'client_secret',
	'client_assertion',
	'code_verifier',
	'secret',
	'password',
];

const normalize = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

const SECRET_HEADERS = new Set(SECRET_HEADER_NAMES.map(normalize));
const SECRET_FIELDS = new Set(SECRET_FIELD_NAMES.map(normalize));

export interface RedactOptions {
	/** More header names to remove (the credential's own header name, for example). */
	headerNames?: readonly string[];
	/** More URL parameter names to remove. */
	queryNames?: readonly string[];
}

function nameSet(base: Set<string>, extra: readonly string[] | undefined): Set<string> {
	if (!extra?.length) return base;
	return new Set([...base, ...extra.map(normalize)]);
}

function without<T extends object>(source: T | undefined, names: Set<string>): Partial<T> {
	const copy: Record<string, unknown> = {};
	if (!source) return copy as Partial<T>;
	for (const [key, value] of Object.entries(source)) {
		if (names.has(normalize(key))) continue;
		// defineProperty: a "__proto__" key stays an ordinary own property of the copy.
		Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
	}
	return copy as Partial<T>;
}

/**
 * Copies of a request's headers and query without secrets. The inputs are not modified.
 */
export function redactSecrets<H extends object, Q extends object>(
	request: { headers?: H; query?: Q },
	options: RedactOptions = {},
): { headers: Partial<H>; query: Partial<Q> } {
	return {
		headers: without(request.headers, nameSet(SECRET_HEADERS, options.headerNames)),
		query: without(request.query, nameSet(SECRET_FIELDS, options.queryNames)),
	};
}

/** The URL without secret parameters (an unparsable URL is returned as it is). */
export function redactUrl(url: string, options: Pick<RedactOptions, 'queryNames'> = {}): string {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return url;
	}
	const names = nameSet(SECRET_FIELDS, options.queryNames);
	for (const name of [...new Set(parsed.searchParams.keys())]) {
		if (names.has(normalize(name))) parsed.searchParams.delete(name);
	}
	return parsed.toString();
}

/** A copy of a JSON value without secret fields, at any depth. */
export function redactFields(value: unknown, depth = 0): unknown {
	if (depth > 64 || value === null || typeof value !== 'object') return value;
	if (Array.isArray(value)) return value.map((entry) => redactFields(entry, depth + 1));
	const copy: Record<string, unknown> = {};
	for (const [key, entry] of Object.entries(value)) {
		if (SECRET_FIELDS.has(normalize(key))) continue;
		Object.defineProperty(copy, key, {
			value: redactFields(entry, depth + 1),
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	return copy;
}

/**
 * A body as sent, without secret fields: JSON bodies and form bodies field by field; any other
 * text is shown as it is (it has no field names to judge by).
 */
export function redactBody(body: string | undefined, contentType: string | undefined): string | undefined {
	if (body === undefined || body === '') return body;
	const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
	if (type === 'application/json' || type.endsWith('+json')) {
		try {
			return JSON.stringify(redactFields(JSON.parse(body)));
		} catch {
			return body;
		}
	}
	if (type === 'application/x-www-form-urlencoded') {
		const form = new URLSearchParams(body);
		for (const name of [...new Set(form.keys())]) if (SECRET_FIELDS.has(normalize(name))) form.delete(name);
		return form.toString();
	}
	return body;
}
