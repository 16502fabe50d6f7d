/**
 * The one way this module reaches the network: a function the caller injects. The trigger passes
 * n8n's `helpers.httpRequest` (proxies, SSRF protection and logging stay n8n's); tests pass fetch.
 */
export interface HttpRequest {
	method: 'GET' | 'POST';
	url: string;
	headers: Record<string, string>;
	body?: string;
}

export interface HttpResponse {
	status: number;
	/** The answer's body: parsed JSON when the adapter parsed it, otherwise its text. */
	body: unknown;
}

export type HttpFetch = (request: HttpRequest) => Promise<HttpResponse>;

/** A JSON object from a response body, whether the adapter parsed it already or not. */
export function jsonObject(body: unknown): Record<string, unknown> | undefined {
	let value = body;
	if (typeof value === 'string' || Buffer.isBuffer(value)) {
		try {
			value = JSON.parse(value.toString());
		} catch {
			return undefined;
		}
	}
	return value !== null && typeof value === 'object' && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: undefined;
}

/** application/x-www-form-urlencoded, as RFC 6749 appendix B wants it (spaces as +). */
export function formEncode(values: Record<string, string>): string {
	return new URLSearchParams(values).toString();
}

/** The configured URL without user, password, query and fragment: what a log may show. */
export function displayUrl(url: string): string {
	try {
		const parsed = new URL(url);
		return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
	} catch {
		return '(invalid URL)';
	}
}
