import { redactBody, redactFields, redactSecrets, redactUrl } from '../../../lib/inbound/redaction';

const KEY = '12ab3cd4e1a2bcde1abcd';

describe('redactSecrets', () => {
	const headers = {
		host: 'n8n.example.com',
		'content-type': 'application/json',
		'x-api-key': KEY,
		authorization: 'Bearer token',
		'proxy-authorization': 'Basic abc',
		cookie: 'n8n-auth=jwt',
		'x-trace': 't1',
	};
	const query = {
		itemId: '123abc45-ab1c-1234-5678-1a12a12345a1',
		apiKey: KEY,
		APIKEY: KEY,
		property: 'email',
		email: 'ada@example.com',
	};

	it('removes the configured header (any case), authorization, proxy-authorization and cookie', () => {
		const redacted = redactSecrets({ headers, query }, { headerNames: ['X-API-Key'], queryNames: ['apiKey'] });
		expect(redacted.headers).toEqual({ host: 'n8n.example.com', 'content-type': 'application/json', 'x-trace': 't1' });
	});

	it('removes the configured URL parameters (any case) and keeps the others', () => {
		const redacted = redactSecrets({ headers, query }, { queryNames: ['apiKey'] });
		expect(redacted.query).toEqual({
			itemId: '123abc45-ab1c-1234-5678-1a12a12345a1',
			property: 'email',
			email: 'ada@example.com',
		});
		expect(JSON.stringify(redacted.query)).not.toContain(KEY);
	});

	it('always removes authorization even without options; headers given in other cases too', () => {
		const redacted = redactSecrets({ headers: { Authorization: 'Bearer x', Accept: '*/*' }, query: { a: '1' } });
		expect(redacted).toEqual({ headers: { Accept: '*/*' }, query: { a: '1' } });
	});

	it('returns copies and leaves the inputs untouched', () => {
		const inputHeaders = { ...headers };
		const inputQuery = { ...query };
		const redacted = redactSecrets({ headers: inputHeaders, query: inputQuery }, { headerNames: ['x-api-key'], queryNames: ['apiKey'] });
		expect(inputHeaders).toEqual(headers);
		expect(inputQuery).toEqual(query);
		expect(redacted.headers).not.toBe(inputHeaders);
		expect(redacted.query).not.toBe(inputQuery);
	});

	it('copes with missing headers or query, and keeps a "__proto__" key as a plain key', () => {
		expect(redactSecrets({})).toEqual({ headers: {}, query: {} });
		const tricky = JSON.parse('{"__proto__": {"polluted": true}, "a": "1"}') as Record<string, unknown>;
		const redacted = redactSecrets({ query: tricky });
		expect(Object.keys(redacted.query)).toEqual(['__proto__', 'a']);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.getPrototypeOf(redacted.query)).toBe(Object.prototype);
	});
});

describe('one policy for URLs and bodies', () => {
	it('removes secret URL parameters in any spelling and keeps the others', () => {
		const url = redactUrl(`https://api.example.com/c?api_key=${KEY}&Access-Token=${KEY}&email=a%40b.c&client_secret=${KEY}`);
		expect(url).toBe('https://api.example.com/c?email=a%40b.c');
		expect(redactUrl('not a url')).toBe('not a url');
	});

	it('removes apiKey, access_token, client_secret, refresh_token fields at any depth of a JSON body', () => {
		const body = JSON.stringify({ email: 'a@b.c', apiKey: KEY, nested: [{ refresh_token: KEY, client_secret: KEY, keep: 1 }] });
		expect(JSON.parse(redactBody(body, 'application/json; charset=utf-8')!)).toEqual({ email: 'a@b.c', nested: [{ keep: 1 }] });
		expect(redactFields({ password: KEY, n: null })).toEqual({ n: null });
	});

	it('removes secret form fields; leaves text and unparsable JSON as they are', () => {
		expect(redactBody(`a=1&client_secret=${KEY}&b=2`, 'application/x-www-form-urlencoded')).toBe('a=1&b=2');
		expect(redactBody('token=x', 'text/plain')).toBe('token=x');
		expect(redactBody('{"apiKey":', 'application/json')).toBe('{"apiKey":');
	});
});
