import { ConfigurationError } from '../../../../lib/errors';
import { parseRegisteredApplications, secretDigest } from '../../../../lib/inbound/oauth/registeredApplications';

function issues(text: string): string[] {
	try {
		parseRegisteredApplications(text);
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigurationError);
		return (error as ConfigurationError).issues.map((i) => i.message);
	}
	throw new Error('expected a ConfigurationError');
}

describe('parseRegisteredApplications', () => {
	it('reads client_id:client_secret lines, skipping blanks and comments; a secret may hold colons', () => {
		const apps = parseRegisteredApplications('# the CRM\ncrm:0123456789abcdef\n\n  shop : s3cr3t:with:colons!! \r\n');
		expect(apps.map((a) => a.clientId)).toEqual(['crm', 'shop']);
		expect(apps[0].secretDigest).toEqual(secretDigest('0123456789abcdef'));
		expect(apps[1].secretDigest).toEqual(secretDigest('s3cr3t:with:colons!!'));
		expect(apps[0].scopes).toBeUndefined();
	});

	it('reads a JSON array with optional scopes (a list or a space-separated string)', () => {
		const apps = parseRegisteredApplications(
			JSON.stringify([
				{ clientId: 'crm', clientSecret: '0123456789abcdef', scopes: ['profile:write'] },
				{ clientId: 'bi', clientSecret: 'fedcba9876543210', scope: 'profile:read profile:write' },
				{ clientId: 'all', clientSecret: 'fedcba9876543210' },
			]),
		);
		expect(apps.map((a) => [a.clientId, a.scopes])).toEqual([
			['crm', ['profile:write']],
			['bi', ['profile:read', 'profile:write']],
			['all', undefined],
		]);
	});

	it('lists every problem at once', () => {
		expect(issues('no-colon-here\ncrm:short\ncrm2:0123456789abcdef\ncrm2:0123456789abcdef\nwith space:0123456789abcdef')).toEqual([
			'line 1 is not client_id:client_secret',
			'line 2: the client secret of crm must be at least 16 characters',
			'line 4: the client id crm2 is listed twice',
			'line 5: the client id must be printable characters without spaces or colons',
		]);
		expect(issues('[{"clientId": "a"')[0]).toMatch(/^not valid JSON/);
		expect(issues('[1, {"clientId": "b", "clientSecret": "0123456789abcdef", "scopes": 7}]')).toEqual([
			'application 1 is not an object with clientId and clientSecret',
			'application 2: scopes must be a list of strings or a space-separated string',
		]);
	});
});
