import { ConfigurationError } from '../../../lib/errors';
import { compileJsonPath, validateJsonPath } from '../../../lib/mapping/jsonPath';

const evaluate = (path: string, document: unknown): unknown[] => compileJsonPath(path).evaluate(document);

/** What FullContact answers; BlueConic's documented response mapping reads it. */
const fullContact = {
	fullName: 'Ada Lovelace',
	organizations: [
		{ name: 'Analytical Engines Ltd', title: 'Programmer', current: true },
		{ name: 'Royal Society', title: 'Guest' },
	],
};

/** Braze-style currents export: an events array. */
const braze = {
	events: [
		{ name: 'purchase', user: { external_user_id: 'u1', email: 'a@example.com' }, properties: { amount: 10 } },
		{ name: 'login', user: { external_user_id: 'u2' }, properties: {} },
	],
};

/** SendGrid event webhook: the body is an array of events. */
const sendGrid = [
	{ email: 'a@example.com', event: 'open', timestamp: 1700000000, sg_event_id: 'e1', category: ['news', 'weekly'] },
	{ email: 'b@example.com', event: 'click', timestamp: 1700000100, sg_event_id: 'e2', url: 'https://x.test' },
];

describe('compileJsonPath: valid paths evaluate with jsonpath-plus', () => {
	it("BlueConic's documented response mapping $.organizations[?(@.current)].name", () => {
		expect(evaluate('$.organizations[?(@.current)].name', fullContact)).toEqual(['Analytical Engines Ltd']);
		expect(evaluate('$.organizations[?(@.current)].title', fullContact)).toEqual(['Programmer']);
	});

	it('plain names, nested names and the root', () => {
		expect(evaluate('$.fullName', fullContact)).toEqual(['Ada Lovelace']);
		expect(evaluate('$.data.merges.EMAIL', { data: { merges: { EMAIL: 'm@example.com' } } })).toEqual([
			'm@example.com',
		]);
		expect(evaluate('$', { a: 1 })).toEqual([{ a: 1 }]);
	});

	it('SendGrid: $[*] gives every array element, $[*].email each email', () => {
		expect(evaluate('$[*]', sendGrid)).toEqual(sendGrid);
		expect(evaluate('$[*].email', sendGrid)).toEqual(['a@example.com', 'b@example.com']);
		expect(evaluate('$[0].category', sendGrid)).toEqual([['news', 'weekly']]);
	});

	it('Braze: $.events[*] and paths below it', () => {
		expect(evaluate('$.events[*]', braze)).toEqual(braze.events);
		expect(evaluate('$.events[*].user.external_user_id', braze)).toEqual(['u1', 'u2']);
		expect(evaluate('$.events[0].properties.amount', braze)).toEqual([10]);
	});

	it('bracket names, double quotes, unions, slices and wildcards', () => {
		const doc = { 'first name': 'Ada', 'a.b': 1, x: 1, y: 2, arr: [10, 20, 30, 40] };
		expect(evaluate("$['first name']", doc)).toEqual(['Ada']);
		expect(evaluate('$["first name"]', doc)).toEqual(['Ada']);
		expect(evaluate("$['a.b']", doc)).toEqual([1]);
		expect(evaluate("$['x','y']", doc)).toEqual([1, 2]);
		expect(evaluate('$.arr[0,2]', doc)).toEqual([10, 30]);
		expect(evaluate('$.arr[1:3]', doc)).toEqual([20, 30]);
		expect(evaluate('$.arr[-1:]', doc)).toEqual([40]);
		expect(evaluate('$.arr[::2]', doc)).toEqual([10, 30]);
		expect(evaluate('$.arr[*]', doc)).toEqual([10, 20, 30, 40]);
		expect(evaluate('$.arr.*', doc)).toEqual([10, 20, 30, 40]);
	});

	it('descendants', () => {
		expect(evaluate('$..email', braze)).toEqual(['a@example.com']);
		expect(evaluate('$..name', fullContact)).toEqual(['Analytical Engines Ltd', 'Royal Society']);
		expect(evaluate('$..[?(@.current)].title', fullContact)).toEqual(['Programmer']);
		expect(evaluate("$..['amount']", braze)).toEqual([10]);
	});

	it('names that jsonpath-plus would otherwise treat as operators are plain names', () => {
		const doc = { '@type': 'Person', '*': 'star', $: 'dollar', '1:2': 'colon', '(x)': 'paren', 'x,y': 'comma', "it's": 'quote', 'back\\slash': 'bs', '': 'empty' };
		expect(evaluate("$['@type']", doc)).toEqual(['Person']);
		expect(evaluate("$['*']", doc)).toEqual(['star']);
		expect(evaluate("$['$']", doc)).toEqual(['dollar']);
		expect(evaluate("$['1:2']", doc)).toEqual(['colon']);
		expect(evaluate("$['(x)']", doc)).toEqual(['paren']);
		expect(evaluate("$['x,y']", doc)).toEqual(['comma']);
		expect(evaluate("$['it\\'s']", doc)).toEqual(['quote']);
		expect(evaluate('$["it\'s"]', doc)).toEqual(['quote']);
		expect(evaluate("$['back\\\\slash']", doc)).toEqual(['bs']);
		expect(evaluate("$['']", doc)).toEqual(['empty']);
		expect(evaluate('$.first-name', { 'first-name': 'Ada' })).toEqual(['Ada']);
		expect(evaluate('$.é', { é: 'accent' })).toEqual(['accent']);
	});

	it('filters with comparisons, strings, @root and JavaScript methods', () => {
		const doc = { min: 15, items: [{ n: 'a', v: 10 }, { n: 'b', v: 20 }, { n: 'c', v: 30 }] };
		expect(evaluate('$.items[?(@.v > 15)].n', doc)).toEqual(['b', 'c']);
		expect(evaluate("$.items[?(@.n == 'b')].v", doc)).toEqual([20]);
		expect(evaluate('$.items[?(@.n === "c")].v', doc)).toEqual([30]);
		expect(evaluate('$.items[?(@.v > @root.min && @.v < 25)].n', doc)).toEqual(['b']);
		expect(evaluate('$.items[?(@.n.startsWith("a"))].v', doc)).toEqual([10]);
	});

	it('filters with brackets or quoted parentheses inside, and names with $ or digits', () => {
		expect(evaluate("$.a[?(@.b == 'x)')].b", { a: [{ b: 'x)' }, { b: 'y' }] })).toEqual(['x)']);
		expect(evaluate('$.a[?(@.tags[0] == "x")].id', { a: [{ id: 1, tags: ['x'] }, { id: 2, tags: ['y'] }] })).toEqual([1]);
		expect(evaluate('$.a.$ref', { a: { $ref: '#/x' } })).toEqual(['#/x']);
		expect(evaluate('$.0', { 0: 'zero' })).toEqual(['zero']);
	});

	it('evaluates filters in safe mode: no code runs outside the sandbox', () => {
		const scope = globalThis as { pwned?: number };
		delete scope.pwned;
		expect(evaluate('$[?(@.constructor.constructor("globalThis.pwned=1")())]', [{ a: 1 }])).toEqual([]);
		expect(scope.pwned).toBeUndefined();
	});

	it('a missing intermediate inside a filter fails that element only', () => {
		const doc = { people: [{ name: 'no address' }, { name: 'Ada', address: { city: 'London' } }] };
		expect(evaluate("$.people[?(@.address.city == 'London')].name", doc)).toEqual(['Ada']);
		expect(evaluate("$.people[?(@.x.y.z == 'London')].name", doc)).toEqual([]);
	});

	it('returns [] when nothing matches, for falsy documents, and for scalars', () => {
		expect(evaluate('$.missing', fullContact)).toEqual([]);
		expect(evaluate('$.fullName.first', fullContact)).toEqual([]);
		expect(evaluate('$.a.b.c', { a: null })).toEqual([]);
		for (const document of [undefined, null, 0, false, '']) {
			expect(evaluate('$.a', document)).toEqual([]);
			expect(evaluate('$', document)).toEqual([]);
		}
		expect(evaluate('$.a', 'text')).toEqual([]);
		expect(evaluate('$', 'text')).toEqual(['text']);
		expect(evaluate('$', 5)).toEqual([5]);
	});

	it('keeps the path as written', () => {
		expect(compileJsonPath('$.events[*]').path).toBe('$.events[*]');
	});

	it('does not parse on each evaluation: the compiled function works on many documents', () => {
		const path = compileJsonPath('$.a');
		expect(path.evaluate({ a: 1 })).toEqual([1]);
		expect(path.evaluate({ a: 2 })).toEqual([2]);
		expect(path.evaluate({ b: 2 })).toEqual([]);
	});
});

describe('validateJsonPath: invalid paths are refused with a reason', () => {
	const cases: Array<[string, RegExp]> = [
		['', /^it is empty$/],
		['foo', /^must start with "\$" \(the document root\), for example "\$\.foo"$/],
		['.foo', /for example "\$\.foo"/],
		['@.foo', /for example "\$\.foo"/],
		['[0]', /for example "\$\[0\]"/],
		['$a', /^"\$" must be followed by "\." or "\[", for example "\$\.a"$/],
		['$.', /^it ends with "\."; add a name after the dot or remove the dot$/],
		['$.a.', /ends with "\."/],
		['$..', /^it ends with "\.\."; name what to look for, for example "\$\.\.email"$/],
		['$.a..', /ends with "\.\."/],
		['$...a', /has "\.\.\." after "\$"/],
		['$.[0]', /has "\.\[" after "\$"; write the bracket without the dot/],
		['$[key]', /names in brackets must be quoted, for example "\['key'\]"/],
		["$['single'quote']", /a quoted name is followed by "quote'\]"; a name cannot contain its own quote/],
		['$[?@.a==1]', /^filters are written "\[\?\(\.\.\.\)\]" here, not in the RFC 9535 form "\[\?\.\.\.\]": write "\[\?\(@\.a==1\)\]"$/],
		['$.items[?@.price<10].name', /write "\[\?\(@\.price<10\)\]"/],
		['$[?($.a==1)]', /uses "\$"; inside filters the document root is "@root", for example "\[\?\(@root\.a==1\)\]"/],
		['$.x[?(@.v > $.min)]', /"@root", for example "\[\?\(@\.v > @root\.min\)\]"/],
		['$[0', /unclosed "\["/],
		["$['a'", /unclosed "\["/],
		["$['a]", /unclosed quote/],
		['$]', /a "\]" without a matching "\["/],
		['$.a]', /a "\]" without a matching "\["/],
		['$[]', /empty "\[\]"/],
		['$[-1]', /negative indexes such as "\[-1\]" are not supported; use the slice "\[-1:\]"/],
		['$[-3]', /use the slice "\[-3:-2\]"/],
		['$[01]', /leading zero/],
		['$[0, 1]', /remove the spaces inside "\[0, 1\]"/],
		["$['a', 'b']", /remove the spaces/],
		['$[::0]', /step of 0/],
		['$[*,0]', /"\*" cannot be part of a union/],
		['$[0,]', /empty member/],
		["$['a',0]", /a union of names must hold only quoted names/],
		['$[(@.length-1)]', /script selectors "\[\(\.\.\.\)\]" are not supported; for the last element use the slice "\[-1:\]"/],
		['$[?()]', /empty filter/],
		['$[?(@.a]', /unclosed filter/],
		['$[?(@.a)x]', /a filter must be one expression in parentheses/],
		['$[?(@.a==)]', /^the filter "\[\?\(@\.a==\)\]" is not valid: Expected expression after ==/],
		['$[?(@.a\n==1)]', /a filter must be on one line/],
		['$.a b', /it has a space after "\$\.a"; quote names with spaces, for example "\$\['first name'\]"/],
		[' $.a', /starts or ends with a space/],
		['$.a ', /starts or ends with a space/],
		["$.'a'", /it has a quote after "\$\."; quoted names go in brackets/],
		['$.a^b', /unexpected "\^" after "\$\.a"/],
		['$.a~', /unexpected "~"/],
		['$.@type', /unexpected "@" after "\$\."; quote names with other characters, for example "\$\['na@me'\]"/],
		["$['data[email]']", /contains "\[" or "\]", which the JsonPath engine cannot address; for form fields use the exact field name without "\$"/],
		["$['a^b']", /the JsonPath engine \(jsonpath-plus\) would read it differently than written/],
		["$['a\\q']", /invalid escape "\\q"/],
	];

	it.each(cases)('%j', (path, reason) => {
		expect(validateJsonPath(path)).toMatch(reason);
	});

	it('accepts every path the valid tests use', () => {
		for (const path of [
			'$',
			'$.a',
			'$..a',
			'$..*',
			'$.*',
			'$[*]',
			"$['a']",
			'$["a"]',
			"$['a','b']",
			'$[0]',
			'$[0,1]',
			'$[1:]',
			'$[:2]',
			'$[::-1]',
			'$[-2:]',
			'$.organizations[?(@.current)].name',
			"$.a[?(@.b == 'x)')]",
			'$.a[?(@.tags[0] == "x")]',
			'$.events[*].user.external_user_id',
			'$.a.$ref',
			'$.0',
		]) {
			expect([path, validateJsonPath(path)]).toEqual([path, undefined]);
		}
	});
});

describe('compileJsonPath: errors', () => {
	it('throws a ConfigurationError naming the path and the setting', () => {
		let error: unknown;
		try {
			compileJsonPath('$.', 'mappings[1].field');
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigurationError);
		const configurationError = error as ConfigurationError;
		expect(configurationError.status).toBe(500);
		expect(configurationError.code).toBe('CONFIGURATION_INVALID');
		expect(configurationError.issues).toEqual([
			{
				target: 'mappings[1].field',
				message: 'Invalid JsonPath "$.": it ends with "."; add a name after the dot or remove the dot',
			},
		]);
		expect(configurationError.message).toBe(
			'mappings[1].field: Invalid JsonPath "$.": it ends with "."; add a name after the dot or remove the dot',
		);
	});

	it('defaults the setting name to jsonPath', () => {
		expect(() => compileJsonPath('foo')).toThrow(/^jsonPath: Invalid JsonPath "foo": must start with "\$"/);
	});

	it('refuses a filter with a syntax error at compile time, not per request', () => {
		expect(() => compileJsonPath('$.a[?(@.b ==)]')).toThrow(ConfigurationError);
	});
});
