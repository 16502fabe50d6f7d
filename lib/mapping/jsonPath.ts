/**
 * JsonPath for mappings, on top of jsonpath-plus (always `eval: 'safe'`).
 *
 * jsonpath-plus accepts almost any string and silently returns something for many invalid paths
 * (`$.`, `$a`, `$[key]`, the RFC filter form `[?@.a==1]`, ...), and gives special meaning to some
 * names (`*`, `$`, `@type`, `1:2`, `(x)`, names with `^`). So a path is parsed here first, with a
 * small grammar that says what is wrong in words, then rewritten into a canonical jsonpath-plus
 * path in which every name is an escaped literal. The canonical path is checked against
 * `JSONPath.toPathArray` (so a path the library would read differently from what was written is
 * refused, not half-evaluated) and each filter is compiled once, so a syntax error in a filter is a
 * configuration error, not a per-request surprise.
 *
 * Accepted grammar (a jsonpath-plus-compatible subset of RFC 9535):
 *   path      = "$" *segment
 *   segment   = "." name | ".*" | ".." name | "..*" | ".." bracket | bracket
 *   name      = 1*( ALPHA / DIGIT / "_" / "-" / "$" / non-ASCII )
 *   bracket   = "[" ( "*" | names | indexes | filter ) "]"
 *   names     = quoted *( "," quoted )            ; 'a' or "a", \' \" \\ \n \t \uXXXX escapes
 *   indexes   = (index | slice) *( "," (index | slice) )   ; index >= 0, slice [start]:[end][:step]
 *   filter    = "?(" expression ")"                ; jsonpath-plus script filter, one line
 * Not accepted (with a message saying what to write instead): negative indexes (use `[-1:]`),
 * script selectors `[(...)]`, RFC filters `[?...]`, `$` inside filters (use `@root`), spaces
 * outside quotes and filters, names containing `[`, `]` or `^`, and jsonpath-plus extensions
 * (`^`, `~`, `@string()`).
 *
 * Filters keep jsonpath-plus (JavaScript) semantics: `==` is loose, `[?(@.a)]` tests truthiness.
 * A filter that fails on one element (`@.a.b` when `a` is missing) is false for that element only
 * (`ignoreEvalErrors`); the other elements are still tested.
 */
import { JSONPath } from 'jsonpath-plus';

import { ConfigurationError } from '../errors';

/** A JsonPath checked and prepared once; `evaluate` does no parsing. */
export interface CompiledJsonPath {
	/** The path as written. */
	readonly path: string;
	/** Every value the path selects, in document order; [] when nothing matches. */
	evaluate(document: unknown): unknown[];
}

/**
 * Why `path` is not a JsonPath this package accepts, or undefined when it is.
 * The message is a sentence fragment such as `must start with "$"`.
 */
export function validateJsonPath(path: string): string | undefined {
	const prepared = prepare(path);
	return 'error' in prepared ? prepared.error : undefined;
}

/**
 * Compiles a JsonPath once (per node configuration). Throws `ConfigurationError` naming the path
 * and saying what is wrong. `target` names the setting in the error (for example
 * `mappings[2].field`).
 */
export function compileJsonPath(path: string, target = 'jsonPath'): CompiledJsonPath {
	const prepared = prepare(path);
	if ('error' in prepared) {
		throw new ConfigurationError([{ target, message: invalidMessage(path, prepared.error) }]);
	}
	const canonical = prepared.canonical;
	return {
		path,
		evaluate(document: unknown): unknown[] {
			// jsonpath-plus returns undefined for any falsy document; that is "no match" here.
			if (!document) return [];
			try {
				const result = JSONPath({
					path: canonical,
					json: document as object,
					eval: 'safe',
					wrap: true,
					ignoreEvalErrors: true,
					resultType: 'value',
				});
				return Array.isArray(result) ? result : [];
			} catch {
				// Filters are compiled at configuration time and their runtime errors are ignored per
				// element, so this is not expected; a request must still not fail on a mapping.
				return [];
			}
		},
	};
}

/** The message used in `ConfigurationError`s for an invalid path. */
export function invalidMessage(path: string, reason: string): string {
	return `Invalid JsonPath ${JSON.stringify(path)}: ${reason}`;
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Segment =
	| { type: 'name'; name: string }
	| { type: 'names'; names: string[] }
	| { type: 'wildcard' }
	| { type: 'descendant' }
	| { type: 'indexes'; raw: string }
	| { type: 'filter'; expression: string };

type Prepared = { canonical: string } | { error: string };

class PathError extends Error {}

function prepare(path: string): Prepared {
	if (typeof path !== 'string' || path.length === 0) return { error: 'it is empty' };
	let segments: Segment[];
	try {
		segments = new Parser(path).parse();
	} catch (error) {
		if (error instanceof PathError) return { error: error.message };
		throw error;
	}

	const canonicalParts: string[] = ['$'];
	const expected: string[] = ['$'];
	for (const segment of segments) {
		const [text, loc] = emit(segment);
		canonicalParts.push(text);
		expected.push(loc);
	}
	const canonical = canonicalParts.join('');

	// The library's own tokenizer must see exactly the segments we meant; otherwise it would
	// evaluate something else than what was written.
	const actual = JSONPath.toPathArray(canonical);
	if (actual.length !== expected.length || actual.some((loc, i) => loc !== expected[i])) {
		return {
			error:
				'the JsonPath engine (jsonpath-plus) would read it differently than written; ' +
				'simplify the names or the filter (a name cannot contain "[", "]" or "^")',
		};
	}

	for (const segment of segments) {
		if (segment.type !== 'filter') continue;
		const error = compileFilter(segment.expression);
		if (error) return { error: `the filter "[?(${segment.expression})]" is not valid: ${error}` };
	}
	return { canonical };
}

/** jsonpath-plus compiles a filter when it first runs it; run it once to surface syntax errors. */
function compileFilter(expression: string): string | undefined {
	try {
		JSONPath({
			path: `$[?(${expression})]`,
			json: [0],
			eval: 'safe',
			wrap: true,
			ignoreEvalErrors: true,
		});
		return undefined;
	} catch (error) {
		return error instanceof Error ? error.message : String(error);
	}
}

/** The canonical text of a segment and the token jsonpath-plus must produce for it. */
function emit(segment: Segment): [string, string] {
	switch (segment.type) {
		case 'wildcard':
			return ['[*]', '*'];
		case 'descendant':
			return ['..', '..'];
		case 'indexes':
			return [`[${segment.raw}]`, segment.raw];
		case 'filter':
			return [`[?(${segment.expression})]`, `?(${segment.expression})`];
		case 'names': {
			// A quoted union stays quoted in jsonpath-plus and each member is a literal name.
			const raw = segment.names.map(quote).join(',');
			return [`[${raw}]`, raw];
		}
		case 'name': {
			const { name } = segment;
			if (/[,'\\]/.test(name)) {
				// Kept quoted by jsonpath-plus (literal, with \' and \\ decoded).
				const raw = quote(name);
				return [`[${raw}]`, raw];
			}
			// A leading backtick makes jsonpath-plus take the name literally, so names such as "*",
			// "$", "@type", "1:2" or "(x)" are plain property names.
			return [`['\`${name}']`, `\`${name}`];
		}
	}
}

function quote(name: string): string {
	return `'${name.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** ASCII letters, digits, `_`, `$`, `-`, and any non-ASCII character. */
function isDotNameChar(c: string): boolean {
	return c.charCodeAt(0) > 0x7f || /[A-Za-z0-9_$-]/.test(c);
}
const INDEX = /^(0|[1-9][0-9]*)$/;
const NEGATIVE_INDEX = /^-([1-9][0-9]*)$/;
const SLICE = /^(-?(?:0|[1-9][0-9]*))?:(-?(?:0|[1-9][0-9]*))?(?::(-?(?:0|[1-9][0-9]*))?)?$/;

class Parser {
	private i = 0;

	constructor(private readonly path: string) {}

	parse(): Segment[] {
		const { path } = this;
		if (/^\s|\s$/.test(path)) throw new PathError('it starts or ends with a space');
		if (path[0] !== '$') {
			const rest = path.replace(/^@/, '');
			const example = rest.startsWith('[') || rest.startsWith('.') ? `$${rest}` : `$.${rest}`;
			throw new PathError(`must start with "$" (the document root), for example "${example}"`);
		}
		this.i = 1;
		const segments: Segment[] = [];
		while (this.i < path.length) {
			const c = path[this.i];
			if (c === '.') {
				if (path[this.i + 1] === '.') this.descendant(segments);
				else this.child(segments);
			} else if (c === '[') {
				segments.push(this.bracket());
			} else if (this.i === 1 && c !== ']') {
				throw new PathError(`"$" must be followed by "." or "[", for example "$.${path.slice(1)}"`);
			} else {
				throw this.unexpected();
			}
		}
		return segments;
	}

	private descendant(segments: Segment[]): void {
		const { path } = this;
		this.i += 2;
		segments.push({ type: 'descendant' });
		const c = path[this.i];
		if (c === undefined) {
			throw new PathError('it ends with ".."; name what to look for, for example "$..email"');
		}
		if (c === '[') return; // the bracket is read next
		if (c === '.') throw new PathError(`it has "..." after "${path.slice(0, this.i - 2)}"`);
		if (c === '*') {
			this.i += 1;
			segments.push({ type: 'wildcard' });
			return;
		}
		segments.push({ type: 'name', name: this.dotName() });
	}

	private child(segments: Segment[]): void {
		const { path } = this;
		this.i += 1;
		const c = path[this.i];
		if (c === undefined) {
			throw new PathError('it ends with "."; add a name after the dot or remove the dot');
		}
		if (c === '*') {
			this.i += 1;
			segments.push({ type: 'wildcard' });
			return;
		}
		if (c === '[') {
			throw new PathError(
				`it has ".[" after "${path.slice(0, this.i - 1)}"; write the bracket without the dot`,
			);
		}
		segments.push({ type: 'name', name: this.dotName() });
	}

	private dotName(): string {
		const { path } = this;
		const start = this.i;
		while (this.i < path.length && isDotNameChar(path[this.i])) this.i += 1;
		if (this.i === start) throw this.unexpected();
		return path.slice(start, this.i);
	}

	private unexpected(): PathError {
		const { path, i } = this;
		const c = path[i];
		const where = `after "${path.slice(0, i)}"`;
		if (c === ']') return new PathError(`it has a "]" without a matching "[" ${where}`);
		if (/\s/.test(c)) {
			return new PathError(
				`it has a space ${where}; quote names with spaces, for example "$['first name']"`,
			);
		}
		if (c === "'" || c === '"') {
			return new PathError(
				`it has a quote ${where}; quoted names go in brackets, for example "$['name']"`,
			);
		}
		return new PathError(
			`unexpected ${JSON.stringify(c)} ${where}; quote names with other characters, ` +
				`for example "$['na${c}me']"`,
		);
	}

	private bracket(): Segment {
		const { path } = this;
		const open = this.i;
		this.i += 1;
		const c = path[this.i];
		if (c === undefined) throw new PathError(`it has an unclosed "[" after "${path.slice(0, open)}"`);
		if (c === '?') return this.filter(open);
		if (c === '(') {
			throw new PathError(
				'script selectors "[(...)]" are not supported; for the last element use the slice "[-1:]"',
			);
		}
		if (c === "'" || c === '"') return this.quotedNames(open);
		const close = path.indexOf(']', this.i);
		if (close < 0) throw new PathError(`it has an unclosed "[" after "${path.slice(0, open)}"`);
		const raw = path.slice(this.i, close);
		this.i = close + 1;
		return this.selectors(raw);
	}

	private selectors(raw: string): Segment {
		if (raw === '') throw new PathError('it has an empty "[]"');
		if (/\s/.test(raw)) throw new PathError(`remove the spaces inside "[${raw}]"`);
		if (raw === '*') return { type: 'wildcard' };
		for (const part of raw.split(',')) {
			if (part === '') throw new PathError(`it has an empty member in "[${raw}]"`);
			if (part === '*') throw new PathError(`"*" cannot be part of a union in "[${raw}]"`);
			if (INDEX.test(part)) continue;
			const negative = NEGATIVE_INDEX.exec(part);
			if (negative) {
				const n = Number(negative[1]);
				const slice = n === 1 ? '[-1:]' : `[-${n}:-${n - 1}]`;
				throw new PathError(
					`negative indexes such as "[${part}]" are not supported; use the slice "${slice}"`,
				);
			}
			const slice = SLICE.exec(part);
			if (slice) {
				if (slice[3] !== undefined && Number(slice[3]) === 0) {
					throw new PathError(`the slice "[${part}]" has a step of 0`);
				}
				continue;
			}
			if (/^-?0[0-9]/.test(part)) throw new PathError(`the index "${part}" has a leading zero`);
			throw new PathError(
				`"[${raw}]" is not a valid selector; names in brackets must be quoted, ` +
					`for example "['${part}']"; otherwise use an index, a slice, "*" or a filter "?(...)"`,
			);
		}
		return { type: 'indexes', raw };
	}

	private quotedNames(open: number): Segment {
		const { path } = this;
		const names: string[] = [];
		for (;;) {
			names.push(this.quotedName(open));
			const c = path[this.i];
			if (c === ']') {
				this.i += 1;
				break;
			}
			if (c === ',') {
				this.i += 1;
				const next = path[this.i];
				if (next !== "'" && next !== '"') {
					if (next === ' ') throw new PathError(`remove the spaces inside "${path.slice(open)}"`);
					throw new PathError(
						`a union of names must hold only quoted names, in "${path.slice(open)}"`,
					);
				}
				continue;
			}
			if (c === undefined) throw new PathError(`it has an unclosed "[" after "${path.slice(0, open)}"`);
			if (/\s/.test(c)) throw new PathError(`remove the spaces inside "${path.slice(open)}"`);
			throw new PathError(
				`a quoted name is followed by ${JSON.stringify(path.slice(this.i))}; ` +
					'a name cannot contain its own quote unless it is escaped with a backslash',
			);
		}
		for (const name of names) {
			if (/[[\]]/.test(name)) {
				throw new PathError(
					`the name ${JSON.stringify(name)} contains "[" or "]", which the JsonPath engine cannot ` +
						'address; for form fields use the exact field name without "$" ' +
						'(for example data[merges][EMAIL]) or the nested path (for example "$.data.merges.EMAIL")',
				);
			}
		}
		return names.length === 1 ? { type: 'name', name: names[0] } : { type: 'names', names };
	}

	private quotedName(open: number): string {
		const { path } = this;
		const q = path[this.i];
		this.i += 1;
		let name = '';
		for (;;) {
			const c = path[this.i];
			if (c === undefined) {
				throw new PathError(`it has an unclosed quote in "${path.slice(open)}"`);
			}
			this.i += 1;
			if (c === q) return name;
			if (c === '\\') name += this.escape(open);
			else if (c < ' ') throw new PathError('a quoted name contains a control character');
			else name += c;
		}
	}

	private escape(open: number): string {
		const { path } = this;
		const c = path[this.i];
		this.i += 1;
		const simple: Record<string, string> = {
			"'": "'",
			'"': '"',
			'\\': '\\',
			'/': '/',
			b: '\b',
			f: '\f',
			n: '\n',
			r: '\r',
			t: '\t',
		};
		if (c !== undefined && c in simple) return simple[c];
		if (c === 'u') {
			const hex = path.slice(this.i, this.i + 4);
			if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
				this.i += 4;
				return String.fromCharCode(parseInt(hex, 16));
			}
		}
		throw new PathError(`it has an invalid escape "\\${c ?? ''}" in "${path.slice(open)}"`);
	}

	private filter(open: number): Segment {
		const { path } = this;
		// path[this.i] is "?"
		if (path[this.i + 1] !== '(') {
			const close = findClose(path, this.i + 1, ']');
			const expression = close < 0 ? path.slice(this.i + 1) : path.slice(this.i + 1, close);
			throw new PathError(
				`filters are written "[?(...)]" here, not in the RFC 9535 form "[?...]": ` +
					`write "[?(${expression})]"`,
			);
		}
		const start = this.i + 2;
		const end = findClose(path, start, ')');
		if (end < 0) throw new PathError(`it has an unclosed filter in "${path.slice(open)}"`);
		if (path[end + 1] !== ']') {
			throw new PathError(
				`a filter must be one expression in parentheses, "[?(...)]", in "${path.slice(open)}"`,
			);
		}
		const expression = path.slice(start, end);
		this.i = end + 2;
		if (expression.trim() === '') throw new PathError('it has an empty filter "[?()]"');
		if (/[\r\n]/.test(expression)) throw new PathError('a filter must be on one line');
		if (usesRootDollar(expression)) {
			throw new PathError(
				`the filter "[?(${expression})]" uses "$"; inside filters the document root is ` +
					`"@root", for example "[?(${expression.replace(/(^|[^\w$.@])\$(?![\w$])/g, '$1@root')})]"`,
			);
		}
		return { type: 'filter', expression };
	}
}

/**
 * Index of the `closer` (")" or "]") that ends the expression starting at `start`, skipping
 * quoted strings and nested (), [] and {}; -1 when there is none.
 */
function findClose(text: string, start: number, closer: ')' | ']'): number {
	const stack: string[] = [];
	const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
	for (let i = start; i < text.length; i++) {
		const c = text[i];
		if (c === "'" || c === '"' || c === '`') {
			i = skipString(text, i);
			if (i < 0) return -1;
		} else if (c in pairs) {
			stack.push(pairs[c]);
		} else if (c === ')' || c === ']' || c === '}') {
			if (stack.length === 0) return c === closer ? i : -1;
			if (stack.pop() !== c) return -1;
		}
	}
	return -1;
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function skipString(text: string, start: number): number {
	const q = text[start];
	for (let i = start + 1; i < text.length; i++) {
		if (text[i] === '\\') i += 1;
		else if (text[i] === q) return i;
	}
	return -1;
}

/** Whether a filter uses `$` as an identifier of its own (the RFC root), outside strings. */
function usesRootDollar(expression: string): boolean {
	for (let i = 0; i < expression.length; i++) {
		const c = expression[i];
		if (c === "'" || c === '"' || c === '`') {
			const end = skipString(expression, i);
			if (end < 0) return false;
			i = end;
		} else if (c === '$' && !/[\w$.@]/.test(expression[i - 1] ?? '')) {
			return true;
		}
	}
	return false;
}
