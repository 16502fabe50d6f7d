import { ConfigurationError } from '../../../lib/errors';
import { compileRequest } from '../../../lib/outbound/request';
import { sendWithRetries } from '../../../lib/outbound/retry';
import { buildProfileView, TemplateRenderError } from '../../../lib/templates';
import type { Profile } from '../../../lib/profiles/types';
import { request, startServer } from './helpers/localServer';
import type { LocalServer } from './helpers/localServer';

const awkward = 'Zoë "Q" \\ back\nline </script> 😀 & = / ? # @ %';

const profile: Pick<Profile, 'id' | 'domainGroup' | 'legislation' | 'properties'> = {
	id: '6c1d0c52-0000-4000-8000-000000000001',
	domainGroup: 'DEFAULT',
	legislation: 'GDPR',
	properties: { email: ['ann@example.com', 'ann@work.example'], name: [awkward], score: [12], segments: ['vip'] },
};
const view = buildProfileView(profile);

function configIssues(fn: () => unknown): Array<{ target: string; message: string }> {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigurationError);
		return (error as ConfigurationError).issues;
	}
	throw new Error('expected a ConfigurationError');
}

describe('compileRequest', () => {
	it('renders method, URL, headers and a JSON body for a profile', () => {
		const compiled = compileRequest({
			method: 'post',
			url: 'https://crm.example.com/contacts/{{profileId}}?email={{email.0}}',
			headers: [
				{ name: 'X-Profile', value: '{{profileId}}' },
				{ name: 'X-Segments', value: '{{segments}}' },
			],
			bodyFormat: 'json',
			body: '{"name": "{{name.0}}", "emails": {{json email}}, "score": {{score.0}}}',
		});
		expect(compiled.method).toBe('POST');
		const req = compiled.render(view);
		expect(req).toEqual({
			method: 'POST',
			url: 'https://crm.example.com/contacts/6c1d0c52-0000-4000-8000-000000000001?email=ann%40example.com',
			headers: {
				'X-Profile': '6c1d0c52-0000-4000-8000-000000000001',
				'X-Segments': 'vip',
				'Content-Type': 'application/json',
			},
			body: req.body,
		});
		expect(JSON.parse(req.body as string)).toEqual({ name: awkward, emails: ['ann@example.com', 'ann@work.example'], score: 12 });
	});

	it('form-encodes a form body and sets its content type', () => {
		const req = compileRequest({ method: 'PUT', url: 'https://h.example/x', bodyFormat: 'form', body: 'n={{name.0}}&e={{email}}' }).render(view);
		expect(req.headers).toEqual({ 'Content-Type': 'application/x-www-form-urlencoded' });
		expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({ n: awkward, e: 'ann@example.com,ann@work.example' });
	});

	it('keeps a configured content type, whatever its case', () => {
		const req = compileRequest({
			method: 'PATCH',
			url: 'https://h.example/x',
			headers: [{ name: 'content-type', value: 'application/vnd.api+json' }],
			body: '{"a": 1}',
		}).render(view);
		expect(req.headers).toEqual({ 'content-type': 'application/vnd.api+json' });
	});

	it('sends no body for a blank body template, and no content type then', () => {
		const req = compileRequest({ method: 'DELETE', url: 'https://h.example/u/{{profileId}}', body: '  \n' }).render(view);
		expect(req).toEqual({ method: 'DELETE', url: 'https://h.example/u/6c1d0c52-0000-4000-8000-000000000001', headers: {} });
		expect('body' in req).toBe(false);
	});

	it('refuses to render a header value with a line break, before anything is sent', () => {
		const compiled = compileRequest({ method: 'GET', url: 'https://h.example/', headers: [{ name: 'X-Name', value: '{{name.0}}' }] });
		expect(() => compiled.render(view)).toThrow(TemplateRenderError);
		expect(() => compiled.render(view)).toThrow(/^The header "X-Name" template renders a line break/);
	});

	it('lists every configuration problem at once', () => {
		const issues = configIssues(() =>
			compileRequest({
				method: 'FETCH',
				url: 'https://{{host}}/x',
				headers: [
					{ name: 'Bad Name', value: 'x' },
					{ name: 'X-A', value: '1' },
					{ name: 'x-a', value: '2' },
					{ name: 'X-B', value: '{{#open}}' },
				],
				bodyFormat: 'json',
				body: '{"a": "{{x}}}',
			}),
		);
		expect(issues.map((i) => i.target)).toEqual(['method', 'URL', 'headers[0].name', 'headers[2].name', 'header "X-B"', 'JSON body']);
	});

	it('refuses a body on GET and an unknown body format', () => {
		expect(configIssues(() => compileRequest({ method: 'GET', url: 'https://h.example/', body: '{}' }))).toEqual([
			{ target: 'body', message: 'a GET request carries no body; clear the body or use another method' },
		]);
		expect(
			configIssues(() => compileRequest({ method: 'POST', url: 'https://h.example/', bodyFormat: 'xml' as 'json', body: '<a/>' })).map(
				(i) => i.target,
			),
		).toEqual(['bodyFormat']);
	});
});

describe('a rendered request at a real server on 127.0.0.1', () => {
	let server: LocalServer | undefined;
	afterEach(async () => {
		await server?.close();
		server = undefined;
	});

	it.each(['json', 'form', 'text'] as const)('delivers a %s body whose values arrive intact', async (bodyFormat) => {
		server = await startServer((_req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('{"ok":true}');
		});
		const bodies = {
			json: '{"name": "{{name.0}}", "emails": {{email}}}',
			form: 'name={{name.0}}&emails={{email}}',
			text: 'name={{name.0}}',
		};
		const compiled = compileRequest({
			method: 'POST',
			url: `${server.url}/hook/{{name.0}}?email={{email.0}}`,
			headers: [{ name: 'X-Profile', value: '{{profileId}}' }],
			bodyFormat,
			body: bodies[bodyFormat],
		});
		const req = compiled.render(view);
		const result = await sendWithRetries(() => request(req.url, req.method, undefined, req.headers, req.body), {
			retries: 0,
			baseDelayMs: 0,
			maxDelayMs: 0,
		});
		expect(result.status).toBe(200);

		const seen = server.requests[0];
		const url = new URL(seen.url, server.url);
		expect(decodeURIComponent(url.pathname)).toBe(`/hook/${awkward}`);
		expect(url.searchParams.get('email')).toBe('ann@example.com');
		expect(seen.headers['x-profile']).toBe(profile.id);
		if (bodyFormat === 'json') {
			expect(seen.headers['content-type']).toBe('application/json');
			expect(JSON.parse(seen.body)).toEqual({ name: awkward, emails: ['ann@example.com', 'ann@work.example'] });
		} else if (bodyFormat === 'form') {
			expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
			expect(Object.fromEntries(new URLSearchParams(seen.body))).toEqual({ name: awkward, emails: 'ann@example.com,ann@work.example' });
		} else {
			expect(seen.headers['content-type']).toBe('text/plain; charset=utf-8');
			expect(seen.body).toBe(`name=${awkward}`);
		}
	});
});
