/**
 * One escaping rule per output context. Each function takes the text form of one interpolated
 * value and returns what goes into the output. None of them ever HTML-escapes.
 */

/** Lone UTF-16 surrogates cannot be percent-encoded (encodeURIComponent throws); they become U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function toWellFormed(text: string): string {
	return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * URL context: every character but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is percent-encoded (UTF-8), so a
 * value can never add a `/`, `?`, `#`, `@` or `:` to the URL.
 */
export function encodeUrlValue(text: string): string {
	return encodeURIComponent(toWellFormed(text));
}

/**
 * Form context: the application/x-www-form-urlencoded byte serializer of the WHATWG URL standard
 * (what `URLSearchParams` produces): only `A-Z a-z 0-9 * - . _` stay, a space becomes `+`.
 */
export function encodeFormValue(text: string): string {
	return encodeURIComponent(toWellFormed(text))
		.replace(/%20/g, '+')
		.replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * JSON context, inside a string literal: the characters between the quotes that `JSON.stringify`
 * writes, so `JSON.parse` gives back exactly the original text.
 */
export function escapeJsonString(text: string): string {
	return JSON.stringify(text).slice(1, -1);
}

/** Control characters HTTP header values cannot carry: everything below 0x20 but tab, and DEL. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HEADER_CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;
/** Node's HTTP client refuses characters above U+00FF in header values. */
// eslint-disable-next-line no-control-regex -- the range starts at U+0000 on purpose
const HEADER_BEYOND_LATIN1 = /[^\u0000-\u00FF]/;

/**
 * Why a rendered header value cannot be sent, or undefined when it can. Header values are not
 * escaped: they are sent as they are, or refused.
 */
export function headerValueProblem(value: string): string | undefined {
	if (HEADER_CONTROL.test(value)) {
		return 'a line break or another control character (only tab is allowed), which could split or end the header';
	}
	if (HEADER_BEYOND_LATIN1.test(value)) {
		return 'a character beyond Latin-1 (such as an emoji), which HTTP header values cannot carry; put it in the URL or the body instead';
	}
	return undefined;
}
