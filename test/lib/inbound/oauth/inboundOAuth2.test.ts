import { ConfigurationError } from '../../../../lib/errors';
import {
	bearerToken,
	compileInboundOAuth2,
	getInboundOAuth2,
	headerSafe,
	TokenRefusedError,
	type InboundOAuth2Settings,
} from '../../../../lib/inbound/oauth';

function issues(settings: InboundOAuth2Settings): string[] {
	try {
		compileInboundOAuth2(settings);
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigurationError);
		return (error as ConfigurationError).issues.map((i) => `${i.target}: ${i.message}`);
	}
	throw new Error('expected a ConfigurationError');
}

describe('compileInboundOAuth2: the credential checked once, every problem listed', () => {
	it('wants issuer, audience and a key source for JWTs', () => {
		expect(issues({ verification: 'jwt', keySource: 'jwks', jwksUrl: 'ftp://x' })).toEqual([
			'Issuer: is required for JWT access tokens',
			'Audience: is required for JWT access tokens (otherwise any token of that issuer, for any API, would pass)',
			'JWKS URL: "ftp://x" is not an http(s) URL',
		]);
		expect(issues({ verification: 'jwt', issuer: 'i', audience: 'a', keySource: 'sharedSecret', sharedSecret: 'short' })).toEqual([
			'Shared Secret: must be at least 32 characters (256 bits for HS256)',
		]);
		expect(issues({ verification: 'jwt', issuer: 'i', audience: 'a', jwksUrl: 'https://x.test/', allowedAlgorithms: ['RS256', 'HS256'] })).toEqual([
			'Allowed Algorithms: choose RS256, ES256 or both (keys from a JWKS are public keys)',
		]);
	});

	it('wants the endpoint and the trigger\'s own client for introspection', () => {
		expect(issues({ verification: 'introspection', introspectionCacheSeconds: -1 })).toEqual([
			'Introspection URL: is required',
			'Introspection Client ID: is required',
			'Introspection Client Secret: is required',
			'Introspection Cache TTL: must be a whole number from 0 to 3600',
		]);
	});

	it('wants a signing secret with registered applications, and applications when only those count', () => {
		expect(issues({ verification: 'registeredApplicationsOnly' })).toEqual([
			'Registered Applications: list at least one application (client_id:client_secret per line)',
		]);
		expect(issues({ verification: 'registeredApplicationsOnly', registeredApplications: 'crm:0123456789abcdef', tokenLifetimeSeconds: 0 })).toEqual([
			'Token Signing Secret: must be at least 32 characters (256 bits for HS256)',
			'Token Lifetime: must be a whole number from 1 to 86400',
		]);
		expect(issues({ verification: 'nope' as never, clockSkewSeconds: 601 })).toEqual([
			'Clock Skew: must be a whole number from 0 to 600',
			'Verification: "nope" is not a verification mode',
		]);
	});

	it('keeps one compiled configuration per credential content', () => {
		const settings: InboundOAuth2Settings = { verification: 'jwt', issuer: 'i', audience: 'a', jwksUrl: 'https://x.test/jwks' };
		expect(getInboundOAuth2(settings)).toBe(getInboundOAuth2({ ...settings }));
		expect(getInboundOAuth2(settings)).not.toBe(getInboundOAuth2({ ...settings, audience: 'b' }));
	});
});

describe('bearerToken', () => {
	const refusal = (value: string | string[] | undefined) => {
		try {
			bearerToken(value);
		} catch (error) {
			return error as TokenRefusedError;
		}
		throw new Error('expected a refusal');
	};

	it('reads "Bearer <token>" in any case of the scheme', () => {
		expect(bearerToken('Bearer abc.DEF-_~+/=')).toBe('abc.DEF-_~+/=');
		expect(bearerToken('bearer   xyz')).toBe('xyz');
		expect(bearerToken(['Bearer first', 'Bearer second'])).toBe('first');
	});

	it('answers a missing token with a bare challenge (RFC 6750 section 3.1)', () => {
		for (const value of [undefined, '', 'Basic dXNlcjpwYXNz']) {
			const error = refusal(value);
			expect(error.reason).toBe('missing');
			expect(error.status).toBe(401);
			expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="profile-webhook"' });
		}
	});

	it('refuses a Bearer header without a well-formed token', () => {
		expect(refusal('Bearer').reason).toBe('malformed');
		expect(refusal('Bearer a b').reason).toBe('malformed');
		expect(refusal('Bearer tok"en').message).toBe('The bearer token has characters a token cannot have');
	});
});

describe('headerSafe', () => {
	it('keeps error_description a valid quoted string', () => {
		expect(headerSafe('kid "x" \\ é\n')).toBe("kid 'x' / ??");
		expect(headerSafe('x'.repeat(400))).toHaveLength(300);
	});
});
