import qs from 'qs';

import { ConfigurationError, ProfileWebhookError } from '../../../lib/errors';
import { compileIdentifierConfig, resolveIdentifier, type ResolveIdentifierInput } from '../../../lib/inbound/identifier';
import { readRequestData, type RequestData } from '../../../lib/inbound/requestData';
import { compileFieldSelector } from '../../../lib/mapping/fieldSelector';

/** BlueConic's documented incoming webhook URL, with an address appended. */
const BLUECONIC_QUERY =
	'?itemId=123abc45-ab1c-1234-5678-1a12a12345a1&goalId=1234567890123_1234567890&apiKey=12ab3cd4e1a2bcde1abcd&property=email&email=ada%40example.com';

const blueConicQuery = () => qs.parse(BLUECONIC_QUERY, { ignoreQueryPrefix: true });

function failure(input: ResolveIdentifierInput): ProfileWebhookError {
	try {
		resolveIdentifier(input);
	} catch (error) {
		if (error instanceof ProfileWebhookError) return error;
		throw error;
	}
	throw new Error('resolveIdentifier did not throw');
}

describe('resolveIdentifier: from the URL', () => {
	it("reads BlueConic's documented URL (parsed with qs, as express does)", () => {
		const query = blueConicQuery();
		expect(query.property).toBe('email');
		expect(resolveIdentifier({ identifierProperty: 'email', query })).toEqual({ property: 'email', value: 'ada@example.com' });
	});

	it('property may be left out', () => {
		expect(resolveIdentifier({ identifierProperty: 'email', query: { email: 'a@example.com' } })).toEqual({
			property: 'email',
			value: 'a@example.com',
		});
	});

	it('a property naming another identifier is 400 IDENTIFIER_MISMATCH naming both', () => {
		const error = failure({ identifierProperty: 'email', query: { property: 'crm_id', crm_id: '42' } });
		expect(error.status).toBe(400);
		expect(error.code).toBe('IDENTIFIER_MISMATCH');
		expect(error.message).toBe(
			'The URL names the identifier property "crm_id" (property=crm_id) but this webhook identifies profiles by "email"',
		);
	});

	it('the comparison is case-sensitive', () => {
		expect(failure({ identifierProperty: 'email', query: { property: 'Email', Email: 'x' } }).code).toBe('IDENTIFIER_MISMATCH');
	});

	it('a missing value is 400 MISSING_IDENTIFIER saying where it was expected', () => {
		for (const query of [{}, { property: 'email' }, { property: 'email', email: '' }, { email: '   ' }, { email: ['', ''] }]) {
			const error = failure({ identifierProperty: 'email', query });
			expect(error.status).toBe(400);
			expect(error.code).toBe('MISSING_IDENTIFIER');
			expect(error.message).toBe(
				'No value for the identifier property "email": expected in the URL as ?property=email&email=<value>',
			);
		}
	});

	it("BlueConic's URL with an empty address is missing the identifier", () => {
		const query = qs.parse(BLUECONIC_QUERY.replace('ada%40example.com', ''), { ignoreQueryPrefix: true });
		expect(failure({ identifierProperty: 'email', query }).code).toBe('MISSING_IDENTIFIER');
	});

	it('repeated parameters: the first non-empty value counts, trimmed', () => {
		expect(resolveIdentifier({ identifierProperty: 'email', query: { email: ['', ' b@example.com ', 'c@example.com'] } }).value).toBe(
			'b@example.com',
		);
		expect(resolveIdentifier({ identifierProperty: 'email', query: { property: ['', 'email'], email: 'x' } }).value).toBe('x');
		expect(failure({ identifierProperty: 'email', query: { property: ['crm_id', 'email'], email: 'x' } }).code).toBe(
			'IDENTIFIER_MISMATCH',
		);
	});

	it('a nested (qs) value is not an identifier', () => {
		const nested = failure({ identifierProperty: 'email', query: qs.parse('email[a]=x') });
		expect(nested).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
		expect(nested.message).toBe('The identifier in the URL must be a string or a number, not an object');
	});
});

describe('resolveIdentifier: from the body', () => {
	const source = compileFieldSelector('$.user.email');
	const body = (data: unknown): RequestData => ({ kind: 'json', data });

	it('uses the body selector first', () => {
		expect(
			resolveIdentifier({
				identifierProperty: 'email',
				query: { email: 'url@example.com' },
				source,
				record: body({ user: { email: ['body@example.com', 'second@example.com'] } }),
			}),
		).toEqual({ property: 'email', value: 'body@example.com' });
	});

	it('numbers and booleans become text', () => {
		const id = compileFieldSelector('$.id');
		expect(resolveIdentifier({ identifierProperty: 'crm_id', query: {}, source: id, record: body({ id: 42 }) }).value).toBe('42');
	});

	it('falls back to the URL when the body has no value', () => {
		for (const data of [{}, { user: { email: '' } }, { user: { email: null } }, null]) {
			expect(
				resolveIdentifier({ identifierProperty: 'email', query: { email: 'url@example.com' }, source, record: body(data) }).value,
			).toBe('url@example.com');
		}
	});

	it('a form field name as the source', () => {
		const record = readRequestData({
			method: 'POST',
			contentType: 'application/x-www-form-urlencoded',
			body: { 'data[merges][EMAIL]': 'api@mailchimp.com' },
			query: {},
		});
		const formSource = compileFieldSelector('data[merges][EMAIL]');
		expect(resolveIdentifier({ identifierProperty: 'email', query: {}, source: formSource, record })).toEqual({
			property: 'email',
			value: 'api@mailchimp.com',
		});
	});

	it('a missing value names both places', () => {
		const error = failure({ identifierProperty: 'email', query: {}, source, record: body({}) });
		expect([error.status, error.code]).toEqual([400, 'MISSING_IDENTIFIER']);
		expect(error.message).toBe(
			'No value for the identifier property "email": expected in the request body at $.user.email or in the URL as ?property=email&email=<value>',
		);
	});

	it('a mismatched property in the URL is refused even when the body has the value', () => {
		const error = failure({ identifierProperty: 'email', query: { property: 'crm_id' }, source, record: body({ user: { email: 'x' } }) });
		expect(error.code).toBe('IDENTIFIER_MISMATCH');
	});
});

describe('compileIdentifierConfig', () => {
	it('trims the property and keeps the source', () => {
		const source = compileFieldSelector('$.email');
		expect(compileIdentifierConfig({ identifierProperty: ' email ' })).toEqual({ identifierProperty: 'email' });
		expect(compileIdentifierConfig({ identifierProperty: 'email', source })).toEqual({ identifierProperty: 'email', source });
	});

	it('an empty property is a ConfigurationError', () => {
		for (const identifierProperty of ['', '   ']) {
			let error: unknown;
			try {
				compileIdentifierConfig({ identifierProperty });
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(ConfigurationError);
			expect((error as ConfigurationError).message).toBe('identifierProperty: must not be empty');
			expect((error as ConfigurationError).issues).toEqual([{ target: 'identifierProperty', message: 'must not be empty' }]);
		}
	});

	it('the compiled config is what resolveIdentifier takes', () => {
		const config = compileIdentifierConfig({ identifierProperty: 'email' });
		expect(resolveIdentifier({ ...config, query: { email: 'x' } })).toEqual({ property: 'email', value: 'x' });
	});
});
