import { parse as parseQueryString } from 'node:querystring';

import qs from 'qs';

import { ProfileWebhookError } from '../../../lib/errors';
import {
	flattenFormFields,
	mediaType,
	nestFormFields,
	parseUrlEncoded,
	readRequestData,
	type FormFields,
	type RequestDataInput,
} from '../../../lib/inbound/requestData';

/** Mailchimp's "subscribe" webhook body, form-encoded with bracket names. */
const MAILCHIMP_BODY =
	'type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054' +
	'&data%5Bemail%5D=api%40mailchimp.com&data%5Bemail_type%5D=html&data%5Bmerges%5D%5BEMAIL%5D=api%40mailchimp.com' +
	'&data%5Bmerges%5D%5BFNAME%5D=Mailchimp&data%5Bmerges%5D%5BLNAME%5D=API' +
	'&data%5Bmerges%5D%5BINTERESTS%5D=Group1%2CGroup2&data%5Bip_opt%5D=10.20.10.30';

/** BlueConic's documented incoming webhook URL parameters. */
const BLUECONIC_QUERY =
	'itemId=123abc45-ab1c-1234-5678-1a12a12345a1&goalId=1234567890123_1234567890&apiKey=12ab3cd4e1a2bcde1abcd&property=email&email=ada%40example.com';

/** What n8n hands a node for a form-urlencoded POST: querystring.parse of the body. */
function formRequest(body: string, extra: Partial<RequestDataInput> = {}): RequestDataInput {
	return {
		method: 'POST',
		contentType: 'application/x-www-form-urlencoded',
		body: { ...parseQueryString(body) },
		rawBody: Buffer.from(body),
		query: {},
		...extra,
	};
}

function jsonRequest(text: string, contentType = 'application/json', extra: Partial<RequestDataInput> = {}): RequestDataInput {
	return {
		method: 'POST',
		contentType,
		// n8n parses application/json (only) and leaves other types to rawBody.
		body: contentType === 'application/json' ? (JSON.parse(text) as unknown) : {},
		rawBody: Buffer.from(text),
		query: {},
		...extra,
	};
}

function failure(input: RequestDataInput): ProfileWebhookError {
	try {
		readRequestData(input);
	} catch (error) {
		if (error instanceof ProfileWebhookError) return error;
		throw error;
	}
	throw new Error('readRequestData did not throw');
}

const ACCEPTED =
	'application/json, application/*+json, application/x-www-form-urlencoded, or text/plain holding JSON';

describe('readRequestData: JSON', () => {
	it('uses what n8n parsed for application/json', () => {
		const body = { email: 'ada@example.com', visits: 3 };
		expect(readRequestData({ method: 'POST', contentType: 'application/json', body, query: {} })).toEqual({
			kind: 'json',
			data: body,
		});
	});

	it('accepts parameters and any case in the content type', () => {
		const result = readRequestData(jsonRequest('{"a":1}', 'Application/JSON; charset=UTF-8', { body: { a: 1 } }));
		expect(result).toEqual({ kind: 'json', data: { a: 1 } });
	});

	it('parses application/*+json from the raw body (n8n does not)', () => {
		for (const type of ['application/vnd.api+json', 'application/cloudevents+json', 'application/ld+json; charset=utf-8']) {
			expect(readRequestData(jsonRequest('{"data":{"id":"1"}}', type))).toEqual({ kind: 'json', data: { data: { id: '1' } } });
		}
	});

	it('strips a byte order mark', () => {
		const input = jsonRequest('\uFEFF{"a":1}', 'application/vnd.api+json');
		expect(input.rawBody?.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
		expect(readRequestData(input)).toEqual({ kind: 'json', data: { a: 1 } });
	});

	it('parses the raw body when n8n left the body unparsed', () => {
		const rawBody = Buffer.from('[{"email":"a@example.com"}]');
		expect(readRequestData({ method: 'POST', contentType: 'application/json', body: undefined, rawBody, query: {} })).toEqual({
			kind: 'json',
			data: [{ email: 'a@example.com' }],
		});
		expect(readRequestData({ method: 'POST', contentType: 'application/json', body: '{"a":2}', query: {} })).toEqual({
			kind: 'json',
			data: { a: 2 },
		});
	});

	it('keeps arrays and scalars as the data', () => {
		expect(readRequestData(jsonRequest('[1,2]')).data).toEqual([1, 2]);
		expect(readRequestData(jsonRequest('"text"', 'application/problem+json')).data).toBe('text');
		expect(readRequestData(jsonRequest('42', 'application/problem+json')).data).toBe(42);
	});

	it('reads text/plain holding JSON as JSON', () => {
		const input: RequestDataInput = { method: 'POST', contentType: 'text/plain', body: '{"email":"ada@example.com"}', query: {} };
		expect(readRequestData(input)).toEqual({ kind: 'json', data: { email: 'ada@example.com' } });
	});

	it('reads a body without a content type as JSON when it is JSON', () => {
		const input: RequestDataInput = { method: 'POST', body: {}, rawBody: Buffer.from('{"a":1}'), query: {} };
		expect(readRequestData(input)).toEqual({ kind: 'json', data: { a: 1 } });
	});

	it('malformed JSON is 400 MALFORMED_BODY with the parser message', () => {
		const error = failure(jsonRequest('{"a":', 'application/vnd.api+json'));
		expect(error.status).toBe(400);
		expect(error.code).toBe('MALFORMED_BODY');
		let parserMessage = '';
		try {
			JSON.parse('{"a":');
		} catch (e) {
			parserMessage = (e as Error).message;
		}
		expect(parserMessage).not.toBe('');
		expect(error.message).toBe(`The request body is not valid JSON: ${parserMessage}`);
	});

	it('malformed JSON in a raw application/json body is 400 too', () => {
		const error = failure({ method: 'POST', contentType: 'application/json', body: undefined, rawBody: Buffer.from('{oops}'), query: {} });
		expect([error.status, error.code]).toEqual([400, 'MALFORMED_BODY']);
		expect(error.message).toMatch(/^The request body is not valid JSON: .+/);
	});

	it('text/plain that is not JSON is 400 MALFORMED_BODY', () => {
		const error = failure({ method: 'POST', contentType: 'text/plain', body: 'hello there', query: {} });
		expect(error.status).toBe(400);
		expect(error.code).toBe('MALFORMED_BODY');
		expect(error.message).toMatch(/^The text\/plain request body is not JSON: .+/);
	});
});

describe('readRequestData: forms', () => {
	it('Mailchimp: exact bracket names in form, nested names in data', () => {
		const result = readRequestData(formRequest(MAILCHIMP_BODY));
		expect(result.kind).toBe('form');
		if (result.kind !== 'form') throw new Error('expected a form');
		expect(result.form['data[merges][EMAIL]']).toBe('api@mailchimp.com');
		expect(result.form['fired_at']).toBe('2009-03-26 21:35:57');
		expect(result.data).toEqual({
			type: 'subscribe',
			fired_at: '2009-03-26 21:35:57',
			data: {
				id: '8a25ff1d98',
				list_id: 'a6b5da1054',
				email: 'api@mailchimp.com',
				email_type: 'html',
				merges: { EMAIL: 'api@mailchimp.com', FNAME: 'Mailchimp', LNAME: 'API', INTERESTS: 'Group1,Group2' },
				ip_opt: '10.20.10.30',
			},
		});
	});

	it('keeps repeated names as lists', () => {
		const result = readRequestData(formRequest('tag=a&tag=b&one=1'));
		expect(result).toEqual({ kind: 'form', form: { tag: ['a', 'b'], one: '1' }, data: { tag: ['a', 'b'], one: '1' } });
	});

	it('parses the raw body when n8n did not parse it', () => {
		const fromString = readRequestData({ method: 'POST', contentType: 'application/x-www-form-urlencoded', body: 'a=1&b%5Bc%5D=2', query: {} });
		expect(fromString).toEqual({ kind: 'form', form: { a: '1', 'b[c]': '2' }, data: { a: '1', b: { c: '2' } } });
		const fromRaw = readRequestData({
			method: 'POST',
			contentType: 'application/x-www-form-urlencoded; charset=utf-8',
			body: {},
			rawBody: Buffer.from('x=%C3%A9'),
			query: {},
		});
		expect(fromRaw).toEqual({ kind: 'form', form: { x: 'é' }, data: { x: 'é' } });
	});

	it('a form body from a nesting parser is flattened back to exact names', () => {
		const body = qs.parse('data[merges][EMAIL]=x@example.com&list[]=a&list[]=b');
		const result = readRequestData({ method: 'POST', contentType: 'application/x-www-form-urlencoded', body, query: {} });
		expect(result).toEqual({
			kind: 'form',
			form: { 'data[merges][EMAIL]': 'x@example.com', list: ['a', 'b'] },
			data: { data: { merges: { EMAIL: 'x@example.com' } }, list: ['a', 'b'] },
		});
	});
});

describe('readRequestData: URL parameters', () => {
	it("GET reads BlueConic's documented URL, parsed with qs as express does; apiKey and access_token are never data", () => {
		const query = qs.parse(BLUECONIC_QUERY);
		const result = readRequestData({ method: 'GET', body: {}, query });
		expect(result).toEqual({
			kind: 'query',
			form: {
				itemId: '123abc45-ab1c-1234-5678-1a12a12345a1',
				goalId: '1234567890123_1234567890',
				property: 'email',
				email: 'ada@example.com',
			},
			data: {
				itemId: '123abc45-ab1c-1234-5678-1a12a12345a1',
				goalId: '1234567890123_1234567890',
				property: 'email',
				email: 'ada@example.com',
			},
		});
	});

	it('a form body cannot carry credentials into the data either', () => {
		const result = readRequestData({
			method: 'POST',
			contentType: 'application/x-www-form-urlencoded',
			body: { email: 'a@b.c', apiKey: 'k', access_token: 't' },
			query: { access_token: 't' },
		});
		expect(result).toEqual({ kind: 'form', form: { email: 'a@b.c' }, data: { email: 'a@b.c' } });
	});

	it('refuses JSON nested deeper than the limit with a 400 before reading it', () => {
		let deep: unknown = 'x';
		for (let i = 0; i < 10_000; i++) deep = { a: deep };
		const read = () => readRequestData({ method: 'POST', contentType: 'application/json', body: deep, query: {} });
		expect(read).toThrow(expect.objectContaining({ status: 400, code: 'BAD_REQUEST' }));
		expect(read).toThrow('nested more than 64 levels deep');
		let ok: unknown = 1;
		for (let i = 0; i < 63; i++) ok = [ok];
		expect(readRequestData({ method: 'POST', contentType: 'application/json', body: ok, query: {} }).kind).toBe('json');
	});

	it('GET ignores any body and any size limit', () => {
		const result = readRequestData({ method: 'get', contentType: 'application/xml', body: '<a/>', rawBody: Buffer.alloc(100), query: { a: '1' }, maxBodySize: 10 });
		expect(result).toEqual({ kind: 'query', form: { a: '1' }, data: { a: '1' } });
	});

	it('an empty POST reads the URL parameters, whatever the content type', () => {
		const query = { email: 'ada@example.com' };
		const expected = { kind: 'query', form: query, data: query };
		expect(readRequestData({ method: 'POST', contentType: 'application/json', body: {}, rawBody: Buffer.alloc(0), query })).toEqual(expected);
		expect(readRequestData({ method: 'POST', contentType: 'application/json', body: {}, query })).toEqual(expected);
		expect(readRequestData({ method: 'POST', body: undefined, query })).toEqual(expected);
		expect(readRequestData({ method: 'POST', contentType: 'application/xml', body: '', query })).toEqual(expected);
		expect(readRequestData({ method: 'POST', contentType: 'text/plain', body: ' \n', rawBody: Buffer.from(' \n'), query })).toEqual(expected);
	});

	it('nested URL parameters (qs) get exact bracket names too', () => {
		const result = readRequestData({ method: 'GET', body: undefined, query: qs.parse('data[merges][EMAIL]=x') });
		expect(result).toEqual({ kind: 'query', form: { 'data[merges][EMAIL]': 'x' }, data: { data: { merges: { EMAIL: 'x' } } } });
	});
});

describe('readRequestData: refusals', () => {
	it.each([
		['application/xml', '<profile><email>a@example.com</email></profile>'],
		['text/xml', '<a/>'],
		['application/atom+xml', '<feed/>'],
		['multipart/form-data', '--boundary\r\n'],
		['application/octet-stream', 'binary'],
		['text/csv', 'a,b'],
	])('%s is 415 UNSUPPORTED_MEDIA_TYPE naming the type and what is accepted', (type, text) => {
		const error = failure({ method: 'POST', contentType: `${type}; charset=utf-8`, body: {}, rawBody: Buffer.from(text), query: {} });
		expect(error.status).toBe(415);
		expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
		expect(error.message).toBe(`The content type ${type} is not supported; send ${ACCEPTED}`);
	});

	it('a body without a content type that is not JSON is 415', () => {
		const error = failure({ method: 'POST', body: {}, rawBody: Buffer.from('a=1'), query: {} });
		expect([error.status, error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
		expect(error.message).toBe(`The request has a body but no Content-Type; send ${ACCEPTED}`);
	});

	it('a raw body larger than maxBodySize is 413 naming the limit, before anything else', () => {
		const rawBody = Buffer.from('{"email":"x"}'); // 13 bytes
		const error = failure({ method: 'POST', contentType: 'application/xml', body: {}, rawBody, query: {}, maxBodySize: 12 });
		expect(error.status).toBe(413);
		expect(error.code).toBe('PAYLOAD_TOO_LARGE');
		expect(error.message).toBe('The request body is 13 bytes; this webhook accepts at most 12 bytes');
		expect(readRequestData({ ...jsonRequest('{"email":"x"}'), maxBodySize: 13 }).kind).toBe('json');
	});

	it('counts bytes, not characters, of an unparsed string body', () => {
		const body = '{"n":"éé"}'; // 10 characters, 12 bytes
		const error = failure({ method: 'POST', contentType: 'text/plain', body, query: {}, maxBodySize: 11 });
		expect([error.status, error.message]).toEqual([413, 'The request body is 12 bytes; this webhook accepts at most 11 bytes']);
		expect(readRequestData({ method: 'POST', contentType: 'text/plain', body, query: {}, maxBodySize: 12 }).kind).toBe('json');
	});

	it('no limit when maxBodySize is undefined or not positive', () => {
		const input = jsonRequest(JSON.stringify({ big: 'x'.repeat(100_000) }));
		expect(readRequestData(input).kind).toBe('json');
		expect(readRequestData({ ...input, maxBodySize: 0 }).kind).toBe('json');
	});
});

describe('mediaType', () => {
	it.each([
		[undefined, ''],
		['', ''],
		['application/json', 'application/json'],
		[' Application/JSON ; charset=utf-8', 'application/json'],
		['multipart/form-data; boundary=x', 'multipart/form-data'],
	])('%j -> %j', (input, expected) => {
		expect(mediaType(input)).toBe(expected);
	});
});

describe('nestFormFields', () => {
	const nest = (body: string) => nestFormFields(parseQueryString(body) as FormFields);

	it('nests bracket names', () => {
		expect(nest('data[merges][EMAIL]=x&data[merges][FNAME]=Ada&data[id]=1&top=t')).toEqual({
			data: { merges: { EMAIL: 'x', FNAME: 'Ada' }, id: '1' },
			top: 't',
		});
	});

	it('a[] appends each value; a[0], a[1] index, in index order without holes', () => {
		expect(nest('a[]=1&a[]=2')).toEqual({ a: ['1', '2'] });
		expect(nest('a[2]=c&a[0]=a&a[1]=b')).toEqual({ a: ['a', 'b', 'c'] });
		expect(nest('a[5]=x&a[9]=y')).toEqual({ a: ['x', 'y'] });
		expect(nest('a[1]=x&a[]=y')).toEqual({ a: ['x', 'y'] });
		expect(nest('rows[0][email]=a&rows[1][email]=b&rows[0][name]=A')).toEqual({
			rows: [{ email: 'a', name: 'A' }, { email: 'b' }],
		});
	});

	it('a[][x] starts a new element each time the name appears', () => {
		expect(nestFormFields({ 'items[][name]': 'x', 'items[][id]': '1' })).toEqual({ items: [{ name: 'x' }, { id: '1' }] });
	});

	it('a level mixing indexes and names is an object', () => {
		expect(nest('a[0]=x&a[b]=y')).toEqual({ a: { 0: 'x', b: 'y' } });
	});

	it('indexes only count below the top level', () => {
		expect(nest('0=zero&1[a]=b')).toEqual({ 0: 'zero', 1: { a: 'b' } });
	});

	it('when a name is both a value and a parent, the first one seen wins', () => {
		expect(nest('a=1&a[b]=2')).toEqual({ a: '1' });
		expect(nest('a[b]=2&a=1')).toEqual({ a: { b: '2' } });
		expect(nest('a[b]=1&a[b][c]=2')).toEqual({ a: { b: '1' } });
	});

	it('names that are not well-formed bracket names stay literal keys', () => {
		expect(nest('a[b=1&[a]=2&a[b]c=3&a]b=4&a[b[c]]=5')).toEqual({ 'a[b': '1', '[a]': '2', 'a[b]c': '3', 'a]b': '4', 'a[b[c]]': '5' });
	});

	it('very deep names stay literal', () => {
		const deep = `a${'[x]'.repeat(40)}`;
		expect(nestFormFields({ [deep]: 'v' })).toEqual({ [deep]: 'v' });
		const ok = `a${'[x]'.repeat(3)}`;
		expect(nestFormFields({ [ok]: 'v' })).toEqual({ a: { x: { x: { x: 'v' } } } });
	});

	it('keeps repeated values as lists', () => {
		expect(nest('data[tags]=a&data[tags]=b')).toEqual({ data: { tags: ['a', 'b'] } });
	});

	it('cannot pollute prototypes', () => {
		const nested = nest('__proto__[polluted]=yes&constructor[prototype][polluted]=yes&a=1');
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.keys(nested)).toEqual(['__proto__', 'constructor', 'a']);
		expect(Object.getOwnPropertyDescriptor(nested, '__proto__')?.value).toEqual({ polluted: 'yes' });
		expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
	});
});

describe('flattenFormFields and parseUrlEncoded', () => {
	it('keeps flat objects as they are', () => {
		expect(flattenFormFields({ 'data[merges][EMAIL]': 'x', tag: ['a', 'b'] })).toEqual({ 'data[merges][EMAIL]': 'x', tag: ['a', 'b'] });
	});

	it('turns nested objects back into bracket names, values into strings, drops null', () => {
		expect(flattenFormFields({ data: { merges: { EMAIL: 'x' } }, rows: [{ a: 1 }, { a: true }], n: 5, gone: null, list: ['a', 2] })).toEqual({
			'data[merges][EMAIL]': 'x',
			'rows[0][a]': '1',
			'rows[1][a]': 'true',
			n: '5',
			list: ['a', '2'],
		});
	});

	it('parseUrlEncoded decodes like querystring, repeated names as lists', () => {
		expect(parseUrlEncoded(MAILCHIMP_BODY)).toEqual({ ...parseQueryString(MAILCHIMP_BODY) });
		expect(parseUrlEncoded('a=1&a=2&b=x+y&c=%E2%9C%93')).toEqual({ a: ['1', '2'], b: 'x y', c: '✓' });
	});
});
