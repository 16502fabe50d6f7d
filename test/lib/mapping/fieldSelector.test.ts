import { parse as parseQueryString } from 'node:querystring';

import qs from 'qs';

import { ConfigurationError } from '../../../lib/errors';
import { readRequestData, type RequestData } from '../../../lib/inbound/requestData';
import { compileFieldSelector, toPropertyValues } from '../../../lib/mapping/fieldSelector';

const json = (data: unknown): RequestData => ({ kind: 'json', data });

function form(body: string): RequestData {
	return readRequestData({
		method: 'POST',
		contentType: 'application/x-www-form-urlencoded',
		body: { ...parseQueryString(body) },
		rawBody: Buffer.from(body),
		query: {},
	});
}

const select = (field: string, request: RequestData) => compileFieldSelector(field).select(request);

describe('compileFieldSelector: JsonPath fields', () => {
	it('reads a JSON body', () => {
		const request = json({ email: 'ada@example.com', profile: { visits: 3, vip: true } });
		expect(select('$.email', request)).toEqual(['ada@example.com']);
		expect(select('$.profile.visits', request)).toEqual([3]);
		expect(select('$.profile.vip', request)).toEqual([true]);
	});

	it("BlueConic's documented mapping $.organizations[?(@.current)].name", () => {
		const request = json({ organizations: [{ name: 'Old Co' }, { name: 'New Co', current: true }] });
		expect(select('$.organizations[?(@.current)].name', request)).toEqual(['New Co']);
	});

	it('reads the nested form of form fields', () => {
		const request = form('data%5Bmerges%5D%5BEMAIL%5D=api%40mailchimp.com&data%5Bmerges%5D%5BFNAME%5D=Mailchimp');
		expect(select('$.data.merges.EMAIL', request)).toEqual(['api@mailchimp.com']);
		expect(select('$.data.merges.*', request)).toEqual(['api@mailchimp.com', 'Mailchimp']);
	});

	it('reads the nested form of URL parameters', () => {
		const request = readRequestData({ method: 'GET', body: undefined, query: qs.parse('a[b]=1&email=x@example.com') });
		expect(select('$.a.b', request)).toEqual(['1']);
		expect(select('$.email', request)).toEqual(['x@example.com']);
	});

	it('flattens arrays, keeps numbers and booleans, drops null, undefined and empty strings', () => {
		const request = json({ tags: ['a', ['b', ['c']], '', null, 2, false], empty: '', none: null, zero: 0 });
		expect(select('$.tags', request)).toEqual(['a', 'b', 'c', 2, false]);
		expect(select('$.tags[*]', request)).toEqual(['a', 'b', 'c', 2, false]);
		expect(select('$.empty', request)).toEqual([]);
		expect(select('$.none', request)).toEqual([]);
		expect(select('$.zero', request)).toEqual([0]);
	});

	it('objects become JSON text', () => {
		const request = json({ address: { city: 'London', zip: 'N1' }, list: [{ a: 1 }, 'x'] });
		expect(select('$.address', request)).toEqual(['{"city":"London","zip":"N1"}']);
		expect(select('$.list', request)).toEqual(['{"a":1}', 'x']);
	});

	it('a missing field gives nothing', () => {
		expect(select('$.missing', json({ a: 1 }))).toEqual([]);
		expect(select('$.a.b.c', json({ a: 1 }))).toEqual([]);
		expect(select('$.a', json(null))).toEqual([]);
	});

	it('selectRaw keeps matches as they are', () => {
		const selector = compileFieldSelector('$.address');
		expect(selector.selectRaw(json({ address: { city: 'London' } }))).toEqual([{ city: 'London' }]);
		expect(selector.kind).toBe('jsonPath');
	});
});

describe('compileFieldSelector: exact names', () => {
	it('a form field exactly as sent, brackets and all', () => {
		const request = form('data%5Bmerges%5D%5BEMAIL%5D=api%40mailchimp.com&type=subscribe');
		expect(select('data[merges][EMAIL]', request)).toEqual(['api@mailchimp.com']);
		expect(select('type', request)).toEqual(['subscribe']);
		expect(select('data', request)).toEqual([]);
		expect(select('data[merges][email]', request)).toEqual([]);
	});

	it('a repeated form field gives each value', () => {
		expect(select('tag', form('tag=a&tag=b&tag='))).toEqual(['a', 'b']);
	});

	it('a top-level key of a JSON body, not a path', () => {
		const request = json({ email: 'ada@example.com', 'a.b': 'dotted', nested: { email: 'no' }, list: [1, 2] });
		expect(select('email', request)).toEqual(['ada@example.com']);
		expect(select('a.b', request)).toEqual(['dotted']);
		expect(select('nested.email', request)).toEqual([]);
		expect(select('list', request)).toEqual([1, 2]);
		expect(select('nested', request)).toEqual(['{"email":"no"}']);
	});

	it('a JSON body that is not an object has no names', () => {
		expect(select('0', json(['a']))).toEqual([]);
		expect(select('length', json('text'))).toEqual([]);
	});

	it('does not read inherited properties', () => {
		expect(select('toString', json({}))).toEqual([]);
		expect(select('constructor', form('a=1'))).toEqual([]);
	});

	it("a URL parameter, as in BlueConic's documented URL", () => {
		const query = qs.parse(
			'itemId=123abc45-ab1c-1234-5678-1a12a12345a1&goalId=1234567890123_1234567890&apiKey=12ab3cd4e1a2bcde1abcd&property=email&email=ada%40example.com',
		);
		const request = readRequestData({ method: 'GET', body: undefined, query });
		expect(select('email', request)).toEqual(['ada@example.com']);
		expect(select('goalId', request)).toEqual(['1234567890123_1234567890']);
		expect(select('missing', request)).toEqual([]);
	});

	it('trims the field and keeps it', () => {
		const selector = compileFieldSelector('  email ');
		expect(selector.field).toBe('email');
		expect(selector.kind).toBe('name');
		expect(selector.select(json({ email: 'x' }))).toEqual(['x']);
		expect(selector.selectRaw(json({ email: ['x', 'y'] }))).toEqual([['x', 'y']]);
	});
});

describe('compileFieldSelector: configuration errors', () => {
	it('an empty field', () => {
		expect(() => compileFieldSelector('  ', 'mappings[0].field')).toThrow(ConfigurationError);
		expect(() => compileFieldSelector('', 'mappings[0].field')).toThrow('mappings[0].field: must not be empty');
		expect(() => compileFieldSelector('')).toThrow('field: must not be empty');
	});

	it('an invalid JsonPath names the path', () => {
		expect(() => compileFieldSelector('$.', 'mappings[3].field')).toThrow(
			'mappings[3].field: Invalid JsonPath "$.": it ends with "."; add a name after the dot or remove the dot',
		);
		expect(() => compileFieldSelector('$[?@.a==1]')).toThrow(/write "\[\?\(@\.a==1\)\]"/);
	});
});

describe('toPropertyValues', () => {
	it('applies the value rules', () => {
		expect(toPropertyValues(['a', '', null, undefined, 1, NaN, Infinity, true, [2, [3]], { k: 'v' }, 10n])).toEqual([
			'a',
			1,
			true,
			2,
			3,
			'{"k":"v"}',
			'10',
		]);
	});

	it('keeps whitespace strings and duplicates as they are', () => {
		expect(toPropertyValues([' ', 'a', 'a'])).toEqual([' ', 'a', 'a']);
	});
});
