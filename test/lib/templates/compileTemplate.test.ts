import Mustache from 'mustache';

import { ConfigurationError, ProfileWebhookError, ValidationError } from '../../../lib/errors';
import {
	buildProfileView,
	compileTemplate,
	renderTemplate,
	TemplateConfigurationError,
	TemplateRenderError,
} from '../../../lib/templates';
import type { TemplateView } from '../../../lib/templates';

const view = buildProfileView({
	id: '0f8b1c2e-1111-4222-8333-944445555666',
	domainGroup: 'DEFAULT',
	legislation: 'GDPR',
	properties: {
		email: ['ann@example.com', 'ann.b@example.org'],
		age: [42],
		vip: [true],
		name: ['Ann "the \\ one" </script> 😀'],
		segments: ['seg-1', 'Newsletter'],
		empty: [],
	},
});

function configError(fn: () => unknown): TemplateConfigurationError {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(TemplateConfigurationError);
		expect(error).toBeInstanceOf(ConfigurationError);
		return error as TemplateConfigurationError;
	}
	throw new Error('expected a TemplateConfigurationError');
}

function renderError(fn: () => unknown): TemplateRenderError {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(TemplateRenderError);
		expect(error).toBeInstanceOf(ValidationError);
		return error as TemplateRenderError;
	}
	throw new Error('expected a TemplateRenderError');
}

describe('Mustache over a profile', () => {
	it('renders a property as its values joined with "," and .0 as the first value', () => {
		expect(renderTemplate('{{email}}|{{email.0}}|{{email.1}}|{{email.2}}', 'text', view)).toBe(
			'ann@example.com,ann.b@example.org|ann@example.com|ann.b@example.org|',
		);
	});

	it('renders profileId, segments, domainGroup and legislation', () => {
		expect(renderTemplate('{{profileId}} {{segments}} {{domainGroup}} {{legislation}}', 'text', view)).toBe(
			'0f8b1c2e-1111-4222-8333-944445555666 seg-1,Newsletter DEFAULT GDPR',
		);
	});

	it('renders numbers and booleans as text, missing names as nothing', () => {
		expect(renderTemplate('[{{age}}][{{vip.0}}][{{nope}}][{{nope.0}}][{{empty}}]', 'text', view)).toBe(
			'[42][true][][][]',
		);
	});

	it('never HTML-escapes, whatever the tag form', () => {
		const v: TemplateView = { x: `<a href="/x?a=1&b='2'">\`</a>` };
		for (const tag of ['{{x}}', '{{{x}}}', '{{&x}}']) {
			expect(renderTemplate(tag, 'text', v)).toBe(`<a href="/x?a=1&b='2'">\`</a>`);
		}
	});

	it('iterates sections over value arrays and renders inverted sections for empty ones', () => {
		expect(renderTemplate('{{#email}}<{{.}}>{{/email}}{{^empty}}none{{/empty}}{{^email}}never{{/email}}', 'text', view)).toBe(
			'<ann@example.com><ann.b@example.org>none',
		);
	});

	it('resolves dotted names as the Mustache spec does, not from an outer context', () => {
		const v: TemplateView = { a: { b: {} }, b: { c: 'ERROR' } };
		expect(renderTemplate('{{#a}}[{{b.c}}]{{/a}}', 'text', v)).toBe('[]');
		// a plain name still falls back to outer contexts
		expect(renderTemplate('{{#a}}[{{legislation}}]{{/a}}', 'text', { ...v, legislation: 'NONE' })).toBe('[NONE]');
	});

	it('reads own properties only: no prototype members', () => {
		expect(renderTemplate('[{{constructor}}][{{email.constructor}}][{{toString}}][{{email.__proto__}}]', 'text', view)).toBe(
			'[][][][]',
		);
	});

	it('renders objects as JSON text rather than [object Object]', () => {
		expect(renderTemplate('{{o}}', 'text', { o: { a: [1, 'b'] } })).toBe('{"a":[1,"b"]}');
	});

	it('supports comments and delimiter changes', () => {
		expect(renderTemplate('{{! a comment }}{{=<% %>=}}<% email.0 %>', 'text', view)).toBe('ann@example.com');
	});

	it('lists the names a template reads', () => {
		expect(compileTemplate('{{email.0}} {{#segments}}{{.}}{{/segments}} {{json email}} {{email.0}}', 'text').variables).toEqual([
			'email.0',
			'segments',
			'.',
			'email',
		]);
	});
});

describe('compiled once, rendered many times', () => {
	afterEach(() => jest.restoreAllMocks());

	it('parses when compiling and never when rendering', () => {
		const parse = jest.spyOn(Mustache.Writer.prototype, 'parse');
		const compiled = compileTemplate('{"e": "{{email.0}}", "all": {{json email}}}', 'json');
		expect(parse).toHaveBeenCalledTimes(1);
		for (let i = 0; i < 100; i++) compiled.render(view);
		expect(parse).toHaveBeenCalledTimes(1);
	});

	it('renders each view independently', () => {
		const compiled = compileTemplate('{{email.0}}', 'text');
		const other = buildProfileView({ id: 'x', domainGroup: 'D', legislation: 'NONE', properties: { email: ['b@b.b'] } });
		expect([compiled.render(view), compiled.render(other), compiled.render(view)]).toEqual([
			'ann@example.com',
			'b@b.b',
			'ann@example.com',
		]);
	});
});

describe('json context', () => {
	it('escapes values inside JSON strings so they arrive intact', () => {
		const out = renderTemplate('{"name": "{{name.0}}", "triple": "{{{name.0}}}"}', 'json', view);
		expect(JSON.parse(out)).toEqual({ name: 'Ann "the \\ one" </script> 😀', triple: 'Ann "the \\ one" </script> 😀' });
	});

	it('inserts arrays and objects as JSON with {{json name}}', () => {
		expect(renderTemplate('{"emails": {{json email}}, "first": {{json email.0}}}', 'json', view)).toBe(
			'{"emails": ["ann@example.com","ann.b@example.org"], "first": "ann@example.com"}',
		);
		expect(renderTemplate('{"o": {{json o}}}', 'json', { o: { a: [1, { b: 'c"' }] } })).toBe('{"o": {"a":[1,{"b":"c\\""}]}}');
		expect(renderTemplate('{{{json email}}}', 'json', view)).toBe('["ann@example.com","ann.b@example.org"]');
	});

	it('inserts a value as JSON wherever a JSON value belongs, even without the json prefix', () => {
		expect(renderTemplate('{"age": {{age.0}}, "vip": {{vip.0}}, "emails": {{email}}, "missing": {{nope}}}', 'json', view)).toBe(
			'{"age": 42, "vip": true, "emails": ["ann@example.com","ann.b@example.org"], "missing": null}',
		);
	});

	it('never lets a value add keys or array elements', () => {
		const v: TemplateView = { id: ['1, 2'], x: ['1, "admin": true'] };
		expect(JSON.parse(renderTemplate('[{{id.0}}]', 'json', v))).toEqual(['1, 2']);
		expect(JSON.parse(renderTemplate('{"a": {{x.0}}}', 'json', v))).toEqual({ a: '1, "admin": true' });
		expect(JSON.parse(renderTemplate('{"a": "{{x.0}}"}', 'json', v))).toEqual({ a: '1, "admin": true' });
		expect(JSON.parse(renderTemplate('{"a": "{{x.0}}"}', 'json', { x: ['", "admin": true, "b": "'] }))).toEqual({
			a: '", "admin": true, "b": "',
		});
	});

	it('escapes {{json name}} inside a JSON string: JSON text carried as a string', () => {
		const out = renderTemplate('{"payload": "{{json email}}"}', 'json', view);
		expect(JSON.parse(out)).toEqual({ payload: '["ann@example.com","ann.b@example.org"]' });
	});

	it('renders sections inside and around strings', () => {
		const out = renderTemplate('{"list": [{{#email}}"{{.}}", {{/email}}"end"], "name": "{{#name}}{{.}}{{/name}}{{^name}}unknown{{/name}}"}', 'json', view);
		expect(JSON.parse(out)).toEqual({ list: ['ann@example.com', 'ann.b@example.org', 'end'], name: 'Ann "the \\ one" </script> 😀' });
	});

	it('handles escaped quotes in the template text', () => {
		expect(JSON.parse(renderTemplate('{"q": "say \\"{{email.0}}\\"", "after": {{age.0}}}', 'json', view))).toEqual({
			q: 'say "ann@example.com"',
			after: 42,
		});
	});

	it('refuses to send a body that does not parse, naming the template', () => {
		const compiled = compileTemplate('[{{#email}}{{json .}},{{/email}}]', 'json');
		const error = renderError(() => compiled.render(view));
		expect(error.message).toMatch(/^The JSON body template does not render to valid JSON: ./);
		expect(error.status).toBe(422);
		expect(error.issues).toEqual([{ target: 'JSON body', message: error.message }]);
		expect(error.message).not.toContain('ann@example.com');
	});

	it('uses the label given', () => {
		const error = renderError(() => compileTemplate('{"a": 1,}', 'json', { label: 'body' }).render(view));
		expect(error.message).toMatch(/^The body template does not render to valid JSON: /);
	});

	it('refuses at compile time what can never be safe', () => {
		expect(configError(() => compileTemplate('{"a": "\\{{x}}"}', 'json')).message).toMatch(/right after a backslash/);
		expect(configError(() => compileTemplate('{"a": {{#x}}"{{/x}}y"}', 'json')).message).toMatch(
			/opens or closes a JSON string inside the section \{\{#x\}\}/,
		);
		expect(configError(() => compileTemplate('{"a": "{{x}}}', 'json')).message).toMatch(/never closed/);
	});
});

describe('url context', () => {
	it('allows variables in the path, the query and the fragment', () => {
		expect(renderTemplate('https://api.example.com/v1/{{profileId}}/x?e={{email.0}}&s={{segments}}#{{age}}', 'url', view)).toBe(
			'https://api.example.com/v1/0f8b1c2e-1111-4222-8333-944445555666/x?e=ann%40example.com&s=seg-1%2CNewsletter#42',
		);
		expect(renderTemplate('http://127.0.0.1:8080?e={{email.0}}', 'url', view)).toBe('http://127.0.0.1:8080/?e=ann%40example.com');
	});

	it('returns a literal URL as the normalized URL it is', () => {
		expect(renderTemplate('  HTTPS://API.example.com/a b', 'url', view)).toBe('https://api.example.com/a%20b');
	});

	it('percent-encodes JSON inserted with {{json name}}', () => {
		expect(renderTemplate('https://h.example/?e={{json email}}', 'url', view)).toBe(
			'https://h.example/?e=%5B%22ann%40example.com%22%2C%22ann.b%40example.org%22%5D',
		);
	});

	it.each([
		['https://{{host}}/x', /variable in its host or port/],
		['https://api.example.com{{path}}', /variable in its host or port/],
		['https://api.example.com:{{port}}/x', /variable in its host or port/],
		['https://user:{{password}}@api.example.com/x', /variable in its host or port/],
		['{{base}}/x', /must start with http:\/\/ or https:\/\//],
		['api.example.com/{{x}}', /must start with http:\/\/ or https:\/\//],
		['ftp://files.example.com/{{x}}', /must use http:\/\/ or https:\/\//],
		['', /must start with http:\/\/ or https:\/\//],
	])('refuses %s at compile time', (template, message) => {
		expect(configError(() => compileTemplate(template, 'url')).message).toMatch(message);
	});

	it('keeps the host whatever the value', () => {
		const compiled = compileTemplate('https://api.example.com/u/{{x.0}}?x={{x.0}}#{{x.0}}', 'url');
		for (const x of ['evil.com/', '@evil.com', ':8080', '//evil.com', 'https://evil.com', '\\\\evil.com', '?#@:/\\', '%2F%2Fevil.com']) {
			const url = new URL(compiled.render({ x: [x] }));
			expect(url.origin).toBe('https://api.example.com');
			expect(url.username + url.password).toBe('');
			expect(url.searchParams.get('x')).toBe(x);
		}
	});

	it('never lets a value climb the path with "." or ".."', () => {
		const compiled = compileTemplate('https://api.example.com/users/{{id.0}}/orders?x=1', 'url');
		for (const id of ['..', '.']) {
			const error = renderError(() => compiled.render({ id: [id] }));
			expect(error.message).toMatch(/^The URL template renders a path with a "\." or "\.\." segment/);
		}
		// only whole segments are dot segments; an encoded-looking value is encoded once more
		expect(compiled.render({ id: ['..a'] })).toBe('https://api.example.com/users/..a/orders?x=1');
		expect(compiled.render({ id: ['%2e%2e'] })).toBe('https://api.example.com/users/%252e%252e/orders?x=1');
		// in the query, dots are harmless
		expect(renderTemplate('https://api.example.com/a?x={{id.0}}', 'url', { id: ['..'] })).toBe('https://api.example.com/a?x=..');
	});
});

describe('form, header and text contexts', () => {
	it('form-encodes every value', () => {
		expect(renderTemplate('email={{email.0}}&name={{name.0}}&all={{email}}', 'form', view)).toBe(
			'email=ann%40example.com&name=Ann+%22the+%5C+one%22+%3C%2Fscript%3E+%F0%9F%98%80&all=ann%40example.com%2Cann.b%40example.org',
		);
	});

	it('refuses a line break in a header, naming the header, and never quotes the value', () => {
		const compiled = compileTemplate('Bearer {{token.0}}', 'header', { label: 'header "Authorization"' });
		expect(compiled.render({ token: ['abc'] })).toBe('Bearer abc');
		const error = renderError(() => compiled.render({ token: ['abc\r\nX-Admin: yes'] }));
		expect(error.message).toMatch(/^The header "Authorization" template renders a line break/);
		expect(error.message).not.toContain('X-Admin');
		expect(error).toBeInstanceOf(ProfileWebhookError);
		expect(error.code).toBe('VALIDATION_FAILED');
	});

	it('refuses a line break written in the header template itself', () => {
		expect(() => renderTemplate('a\nb', 'header', view)).toThrow(TemplateRenderError);
	});
});

describe('configuration errors', () => {
	it.each([
		['{{#a}}x', /^The text body template is not valid Mustache: Unclosed section "a"/],
		['{{/a}}', /not valid Mustache: Unopened section "a"/],
		['{{> header}}', /partials are not supported/],
		['{{a b}}', /tag it does not understand: \{\{a b\}\}/],
		['{{a..b}}', /tag it does not understand/],
		['{{#json email}}{{/json email}}', /tag it does not understand/],
	])('refuses %s', (template, message) => {
		const error = configError(() => compileTemplate(template, 'text'));
		expect(error.message).toMatch(message);
		expect(error.status).toBe(500);
		expect(error.code).toBe('CONFIGURATION_INVALID');
		expect(error.issues).toEqual([{ target: 'text body', message: error.message }]);
	});

	it('refuses an unknown context', () => {
		// @ts-expect-error: a context that does not exist, as an untyped caller could pass it
		expect(() => compileTemplate('x', 'html')).toThrow(/Unknown template context "html"/);
	});
});
