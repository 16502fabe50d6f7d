import { ConfigurationError, ProfileWebhookError } from '../../../lib/errors';
import { verifyApiKey, type VerifyApiKeyInput } from '../../../lib/inbound/apiKey';

const KEY = '12ab3cd4e1a2bcde1abcd';

function failure(input: VerifyApiKeyInput): ProfileWebhookError {
	try {
		verifyApiKey(input);
	} catch (error) {
		if (error instanceof ProfileWebhookError) return error;
		throw error;
	}
	throw new Error('verifyApiKey did not throw');
}

function expectUnauthorized(input: VerifyApiKeyInput, message: string): void {
	const error = failure(input);
	expect(error).not.toBeInstanceOf(ConfigurationError);
	expect(error.status).toBe(401);
	expect(error.code).toBe('UNAUTHORIZED');
	expect(error.message).toBe(message);
	expect(error.message).not.toContain(KEY);
	for (const sent of [input.headerValue, input.queryValue].flat()) {
		if (typeof sent === 'string' && sent.trim() !== '') expect(error.message).not.toContain(sent);
	}
}

describe('verifyApiKey', () => {
	it('accepts the right key in the header', () => {
		expect(() => verifyApiKey({ expected: KEY, headerValue: KEY, allowInUrl: false })).not.toThrow();
	});

	it('accepts a header value that arrives as a list (repeated header), using the first', () => {
		expect(() => verifyApiKey({ expected: KEY, headerValue: [KEY, 'other'], allowInUrl: false })).not.toThrow();
		expect(() => verifyApiKey({ expected: KEY, headerValue: ['', KEY], allowInUrl: false })).not.toThrow();
		expectUnauthorized({ expected: KEY, headerValue: ['wrong', KEY], allowInUrl: false }, 'The API key is invalid');
	});

	it('ignores surrounding whitespace in the received key', () => {
		expect(() => verifyApiKey({ expected: KEY, headerValue: ` ${KEY} `, allowInUrl: false })).not.toThrow();
	});

	it('refuses a missing key, naming the configured header', () => {
		expectUnauthorized(
			{ expected: KEY, headerValue: undefined, allowInUrl: false },
			'No API key: send it in the X-API-Key header',
		);
		expectUnauthorized(
			{ expected: KEY, headerValue: '', allowInUrl: false, headerName: 'X-Profile-Key' },
			'No API key: send it in the X-Profile-Key header',
		);
		expectUnauthorized(
			{ expected: KEY, headerValue: [], queryValue: '', allowInUrl: false },
			'No API key: send it in the X-API-Key header',
		);
	});

	it('mentions the URL parameter when keys in the URL are allowed', () => {
		expectUnauthorized(
			{ expected: KEY, headerValue: undefined, allowInUrl: true },
			'No API key: send it in the X-API-Key header or the apiKey URL parameter',
		);
		expectUnauthorized(
			{ expected: KEY, headerValue: undefined, allowInUrl: true, queryName: 'key' },
			'No API key: send it in the X-API-Key header or the key URL parameter',
		);
	});

	it('refuses a wrong key, whatever its length (no timingSafeEqual length crash)', () => {
		for (const wrong of ['x', `${KEY}x`, KEY.slice(0, -1), KEY.toUpperCase(), 'a'.repeat(10_000), 'ключ']) {
			expectUnauthorized({ expected: KEY, headerValue: wrong, allowInUrl: false }, 'The API key is invalid');
		}
	});

	it('refuses a key in the URL when the webhook does not accept keys in the URL, even the right one', () => {
		expectUnauthorized(
			{ expected: KEY, headerValue: undefined, queryValue: KEY, allowInUrl: false },
			'The API key was sent in the URL but this webhook does not accept keys in the URL; send it in the X-API-Key header',
		);
	});

	it('accepts the right key in the URL when allowed, refuses a wrong one', () => {
		expect(() => verifyApiKey({ expected: KEY, headerValue: undefined, queryValue: KEY, allowInUrl: true })).not.toThrow();
		expect(() => verifyApiKey({ expected: KEY, headerValue: undefined, queryValue: ['', KEY], allowInUrl: true })).not.toThrow();
		expectUnauthorized({ expected: KEY, headerValue: undefined, queryValue: 'nope', allowInUrl: true }, 'The API key is invalid');
	});

	it('ignores URL values that are not strings (a qs-parsed object)', () => {
		expectUnauthorized(
			{ expected: KEY, headerValue: undefined, queryValue: { a: KEY }, allowInUrl: true },
			'No API key: send it in the X-API-Key header or the apiKey URL parameter',
		);
	});

	it('the header wins over the URL', () => {
		expectUnauthorized({ expected: KEY, headerValue: 'wrong', queryValue: KEY, allowInUrl: true }, 'The API key is invalid');
		expect(() => verifyApiKey({ expected: KEY, headerValue: KEY, queryValue: 'wrong', allowInUrl: false })).not.toThrow();
	});

	it('an empty expected key is a configuration error, never a pass', () => {
		for (const received of ['', undefined, 'anything']) {
			let error: unknown;
			try {
				verifyApiKey({ expected: '', headerValue: received, queryValue: received, allowInUrl: true });
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(ConfigurationError);
			expect((error as ConfigurationError).message).toBe(
				'apiKey: the credential has no API key; set one to protect this webhook',
			);
		}
	});
});
