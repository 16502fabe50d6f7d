import Mustache from 'mustache';
import type { TemplateSpans } from 'mustache';

import { TemplateConfigurationError, TemplateRenderError } from './errors';
import { encodeFormValue, encodeUrlValue, escapeJsonString, headerValueProblem } from './escaping';
import type { TemplateView } from './profileView';

/**
 * Where a rendered template goes; each context has exactly one escaping rule, applied to every
 * interpolation (`{{x}}`, `{{{x}}}` and `{{&x}}` alike):
 *
 * - `url`: values are percent-encoded (`encodeURIComponent`). The scheme, host and port must be
 *   written out in the template, and the rendered URL is checked to keep them; a value can never
 *   make a path segment `.` or `..` either.
 * - `json`: inside a JSON string (`"{{x}}"`) values are JSON-string escaped; outside a string
 *   (`{"n": {{x}}}`) a value is inserted as JSON (a string is quoted, an array stays an array), so a
 *   value can never add keys or elements. The rendered body must parse as JSON.
 * - `form`: values are application/x-www-form-urlencoded (`a b&c` -> `a+b%26c`).
 * - `header`: values are inserted as they are; a rendered value holding CR, LF, another control
 *   character (tab is fine) or a character beyond Latin-1 is refused.
 * - `text`: values are inserted as they are.
 */
export type TemplateContext = 'url' | 'json' | 'form' | 'header' | 'text';

export const TEMPLATE_CONTEXTS: readonly TemplateContext[] = ['url', 'json', 'form', 'header', 'text'];

export interface CompileTemplateOptions {
	/**
	 * What the template is, as the user knows it, used in every error message: defaults to `URL`,
	 * `JSON body`, `form body`, `header` and `text body`. For headers pass `header "X-Id"`.
	 */
	label?: string;
}

export interface CompiledTemplate {
	readonly source: string;
	readonly context: TemplateContext;
	readonly label: string;
	/** Every name the template reads (`email.0`, `segments`), once each, in order of appearance. */
	readonly variables: readonly string[];
	/**
	 * Renders over a view (see `buildProfileView`). Never parses: the template was parsed when it
	 * was compiled. Throws `TemplateRenderError` when the result cannot be sent safely.
	 */
	render(view: TemplateView): string;
}

const DEFAULT_LABELS: Record<TemplateContext, string> = {
	url: 'URL',
	json: 'JSON body',
	form: 'form body',
	header: 'header',
	text: 'text body',
};

/**
 * Where an interpolation sits: `plain` (URL, form, header, text), or in a JSON body inside a
 * string literal (`jsonString`) or where a JSON value belongs (`jsonValue`).
 */
type Placement = 'plain' | 'jsonString' | 'jsonValue';

/** A name split on dots; `[]` is `.`, the current item of a section. */
type NamePath = readonly string[];

type Segment =
	| { kind: 'text'; text: string }
	| { kind: 'value'; path: NamePath; asJson: boolean; placement: Placement }
	| { kind: 'section'; path: NamePath; inverted: boolean; children: Segment[] };

interface JsonLexState {
	inString: boolean;
	/** The previous character inside the string was a backslash. */
	escaped: boolean;
}

/** `{{json email}}`: the value as JSON text (an array stays an array). */
const JSON_TAG = /^json\s+(\S+)$/;

/** A profile property id, a dotted path into it (`email.0`) or `.`. */
function parseName(name: string, label: string, tag: string): NamePath {
	if (name === '.') return [];
	const path = name.split('.');
	if (name === '' || /\s/.test(name) || path.some((part) => part === '')) {
		throw new TemplateConfigurationError(
			label,
			`The ${label} template has a tag it does not understand: ${tag}. Use {{property}}, {{property.0}}, {{json property}} or sections.`,
		);
	}
	return path;
}

function lexJsonText(state: JsonLexState, text: string): void {
	for (const c of text) {
		if (state.inString) {
			if (state.escaped) state.escaped = false;
			else if (c === '\\') state.escaped = true;
			else if (c === '"') state.inString = false;
		} else if (c === '"') {
			state.inString = true;
		}
	}
}

function convertTokens(
	tokens: TemplateSpans,
	context: TemplateContext,
	label: string,
	json: JsonLexState | undefined,
	variables: Set<string>,
): Segment[] {
	const segments: Segment[] = [];
	for (const token of tokens) {
		const [type, value] = token;
		switch (type) {
			case 'text':
				if (json) lexJsonText(json, value);
				segments.push({ kind: 'text', text: value });
				break;
			case 'name':
			case '&': {
				const tag = type === '&' ? `{{{${value}}}}` : `{{${value}}}`;
				const jsonTag = JSON_TAG.exec(value);
				const name = jsonTag ? jsonTag[1] : value;
				const path = parseName(name, label, tag);
				variables.add(name);
				let placement: Placement = 'plain';
				if (json) {
					if (json.escaped) {
						throw new TemplateConfigurationError(
							label,
							`The ${label} template puts ${tag} right after a backslash inside a JSON string; remove the backslash.`,
						);
					}
					placement = json.inString ? 'jsonString' : 'jsonValue';
				}
				segments.push({ kind: 'value', path, asJson: jsonTag !== null, placement });
				break;
			}
			case '#':
			case '^': {
				const tag = `{{${type}${value}}}`;
				const path = parseName(value, label, tag);
				variables.add(value);
				const before = json ? { ...json } : undefined;
				const nested = token[4];
				const children = convertTokens(Array.isArray(nested) ? nested : [], context, label, json, variables);
				if (json && before && (json.inString !== before.inString || json.escaped !== before.escaped)) {
					throw new TemplateConfigurationError(
						label,
						`The ${label} template opens or closes a JSON string inside the section ${tag}; put both quotes inside the section or both outside it.`,
					);
				}
				segments.push({ kind: 'section', path, inverted: type === '^', children });
				break;
			}
			case '>':
				throw new TemplateConfigurationError(
					label,
					`The ${label} template uses a partial ({{>${value}}}); partials are not supported.`,
				);
			case '!':
			case '=':
				// Comments render nothing; a delimiter change was already applied by the parser.
				break;
			default:
				throw new TemplateConfigurationError(label, `The ${label} template has an unknown tag type "${type}".`);
		}
	}
	return segments;
}

function isContainer(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null;
}

/**
 * Mustache name resolution (as the Mustache spec has it): the first part is looked up from the
 * innermost section outwards, the rest only inside what it found. Own properties only, so
 * `{{constructor}}` or `{{email.__proto__}}` render nothing.
 */
function lookup(stack: readonly unknown[], path: NamePath): unknown {
	if (path.length === 0) return stack[stack.length - 1];
	let value: unknown;
	let found = false;
	for (let i = stack.length - 1; i >= 0; i--) {
		const frame = stack[i];
		if (isContainer(frame) && Object.hasOwn(frame, path[0])) {
			value = frame[path[0]];
			found = true;
			break;
		}
	}
	if (!found) return undefined;
	for (let i = 1; i < path.length; i++) {
		if (!isContainer(value) || !Object.hasOwn(value, path[i])) return undefined;
		value = value[path[i]];
	}
	return value;
}

/** The text form of a value: arrays joined with "," (as mustache.js and BlueConic), objects as JSON. */
export function valueToText(value: unknown): string {
	if (value === null || value === undefined) return '';
	if (typeof value === 'string') return value;
	if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
	if (Array.isArray(value)) return value.map(valueToText).join(',');
	if (typeof value === 'object') return JSON.stringify(value) ?? '';
	return '';
}

/** The JSON form of a value; a missing value is `null`. */
export function valueToJson(value: unknown): string {
	return JSON.stringify(value) ?? 'null';
}

function isFalsy(value: unknown): boolean {
	return !value || (Array.isArray(value) && value.length === 0);
}

function renderSegments(
	segments: readonly Segment[],
	stack: unknown[],
	escape: (text: string) => string,
): string {
	let out = '';
	for (const segment of segments) {
		if (segment.kind === 'text') {
			out += segment.text;
		} else if (segment.kind === 'value') {
			const value = lookup(stack, segment.path);
			if (segment.placement === 'jsonValue') {
				out += valueToJson(value);
			} else if (segment.placement === 'jsonString') {
				out += escapeJsonString(segment.asJson ? valueToJson(value) : valueToText(value));
			} else {
				out += escape(segment.asJson ? valueToJson(value) : valueToText(value));
			}
		} else {
			const value = lookup(stack, segment.path);
			if (segment.inverted) {
				if (isFalsy(value)) out += renderSegments(segment.children, stack, escape);
			} else if (isFalsy(value)) {
				// nothing
			} else if (Array.isArray(value)) {
				for (const item of value) {
					stack.push(item);
					out += renderSegments(segment.children, stack, escape);
					stack.pop();
				}
			} else if (value === true) {
				out += renderSegments(segment.children, stack, escape);
			} else {
				stack.push(value);
				out += renderSegments(segment.children, stack, escape);
				stack.pop();
			}
		}
	}
	return out;
}

const identity = (text: string): string => text;

const PLAIN_ESCAPES: Record<TemplateContext, (text: string) => string> = {
	url: encodeUrlValue,
	form: encodeFormValue,
	json: escapeJsonString,
	header: identity,
	text: identity,
};

/** The scheme and authority, written out at the start of a URL template. */
const URL_ORIGIN = /^\s*([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*)/;

interface UrlOrigin {
	protocol: string;
	hostname: string;
	port: string;
	/** Where the authority ends in every rendered URL (the prefix is literal text). */
	authorityEnd: number;
}

function literalUrlOrigin(segments: readonly Segment[], label: string): UrlOrigin {
	let prefix = '';
	let literalOnly = true;
	for (const segment of segments) {
		if (segment.kind !== 'text') {
			literalOnly = false;
			break;
		}
		prefix += segment.text;
	}
	const match = URL_ORIGIN.exec(prefix);
	if (!match) {
		throw new TemplateConfigurationError(
			label,
			`The ${label} template must start with http:// or https:// and a host written out; variables may only appear in the path, the query or the fragment.`,
		);
	}
	if (!literalOnly && prefix.length === match[0].length) {
		throw new TemplateConfigurationError(
			label,
			`The ${label} template has a variable in its host or port. Write the host out and end it with "/", "?" or "#"; variables may only appear after it, so a profile value can never change where the request goes.`,
		);
	}
	let url: URL;
	try {
		url = new URL(`${match[1]}/`);
	} catch {
		throw new TemplateConfigurationError(label, `The ${label} template does not start with a valid URL.`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new TemplateConfigurationError(label, `The ${label} template must use http:// or https://.`);
	}
	return { protocol: url.protocol, hostname: url.hostname, port: url.port, authorityEnd: match[0].length };
}

/** A path segment WHATWG URL parsing would resolve away (`..`, `.`, `%2e%2E` and so on). */
function isDotSegment(segment: string): boolean {
	const decoded = segment.replace(/%2e/gi, '.');
	return decoded === '.' || decoded === '..';
}

function checkUrl(rendered: string, origin: UrlOrigin, label: string): string {
	const rest = rendered.slice(origin.authorityEnd);
	const pathEnd = rest.search(/[?#]/);
	const path = pathEnd === -1 ? rest : rest.slice(0, pathEnd);
	if (path.split(/[/\\]/).some(isDotSegment)) {
		throw new TemplateRenderError(
			label,
			`The ${label} template renders a path with a "." or ".." segment, which would change the path the request goes to.`,
		);
	}
	let url: URL;
	try {
		url = new URL(rendered);
	} catch {
		throw new TemplateRenderError(label, `The ${label} template does not render to a valid URL.`);
	}
	// Values are percent-encoded, so this holds by construction; checked anyway, since it is the promise.
	if (url.protocol !== origin.protocol || url.hostname !== origin.hostname || url.port !== origin.port) {
		throw new TemplateRenderError(
			label,
			`The ${label} template renders a URL with another scheme, host or port than the template's.`,
		);
	}
	return url.href;
}

/**
 * Parses a Mustache template once for one output context. Partials and lambdas are not supported;
 * sections (`{{#email}}…{{/email}}`), inverted sections, comments and delimiter changes are.
 * Throws `TemplateConfigurationError` when the template can never render safely.
 *
 * Besides the context's escaping, one addition to Mustache: `{{json name}}` inserts the value as
 * JSON text (`{{json email}}` -> `["a@b.c"]`, `{{json email.0}}` -> `"a@b.c"`), so an array or an
 * object can go into a JSON body as it is. Inside a JSON string it is escaped like any value; in
 * the other contexts the JSON text is escaped for the context.
 */
export function compileTemplate(
	template: string,
	context: TemplateContext,
	options: CompileTemplateOptions = {},
): CompiledTemplate {
	if (!TEMPLATE_CONTEXTS.includes(context)) {
		throw new TemplateConfigurationError(options.label ?? String(context), `Unknown template context "${String(context)}".`);
	}
	const label = options.label ?? DEFAULT_LABELS[context];
	let tokens: TemplateSpans;
	try {
		// A Writer of our own: Mustache.parse would keep every template ever seen in a global cache.
		tokens = new Mustache.Writer().parse(template) as TemplateSpans;
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new TemplateConfigurationError(label, `The ${label} template is not valid Mustache: ${reason}.`);
	}
	const json: JsonLexState | undefined = context === 'json' ? { inString: false, escaped: false } : undefined;
	const variables = new Set<string>();
	const segments = convertTokens(tokens, context, label, json, variables);
	if (json?.inString) {
		throw new TemplateConfigurationError(label, `The ${label} template has a JSON string that is never closed.`);
	}
	const origin = context === 'url' ? literalUrlOrigin(segments, label) : undefined;
	const escape = PLAIN_ESCAPES[context];

	const render = (view: TemplateView): string => {
		const rendered = renderSegments(segments, [view], escape);
		switch (context) {
			case 'url':
				return checkUrl(rendered, origin as UrlOrigin, label);
			case 'json':
				try {
					JSON.parse(rendered);
				} catch (error) {
					const reason = error instanceof Error ? error.message : String(error);
					throw new TemplateRenderError(label, `The ${label} template does not render to valid JSON: ${reason}`);
				}
				return rendered;
			case 'header': {
				const problem = headerValueProblem(rendered);
				if (problem) {
					throw new TemplateRenderError(label, `The ${label} template renders ${problem}.`);
				}
				return rendered;
			}
			default:
				return rendered;
		}
	};

	return { source: template, context, label, variables: [...variables], render };
}

/**
 * Compiles and renders in one go. Fine for a single use (a test request); for many profiles,
 * compile once with `compileTemplate` and call `render`.
 */
export function renderTemplate(
	template: string,
	context: TemplateContext,
	view: TemplateView,
	options?: CompileTemplateOptions,
): string {
	return compileTemplate(template, context, options).render(view);
}
