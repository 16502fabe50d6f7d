/**
 * The escaping table of issue 6: for each output context, what a hostile or awkward value turns
 * into, exactly. Every row is also checked through the three tag forms ({{v.0}}, {{{v.0}}},
 * {{&v.0}}), which must give the same output: context escaping applies to every interpolation.
 */
import { buildProfileView, compileTemplate, TemplateRenderError } from '../../../lib/templates';
import type { TemplateContext } from '../../../lib/templates';

interface Row {
	name: string;
	value: string;
	url: string;
	json: string;
	form: string;
	/** Header values go out as they are, or are refused. */
	header: string | 'refused';
}

const ROWS: Row[] = [
	{ name: 'double quote', value: 'a"b', url: 'a%22b', json: 'a\\"b', form: 'a%22b', header: 'a"b' },
	{ name: 'backslash', value: 'a\\b', url: 'a%5Cb', json: 'a\\\\b', form: 'a%5Cb', header: 'a\\b' },
	{ name: 'newline', value: 'a\nb', url: 'a%0Ab', json: 'a\\nb', form: 'a%0Ab', header: 'refused' },
	{ name: 'carriage return', value: 'a\rb', url: 'a%0Db', json: 'a\\rb', form: 'a%0Db', header: 'refused' },
	{ name: 'tab', value: 'a\tb', url: 'a%09b', json: 'a\\tb', form: 'a%09b', header: 'a\tb' },
	{ name: 'NUL', value: 'a\u0000b', url: 'a%00b', json: 'a\\u0000b', form: 'a%00b', header: 'refused' },
	{
		name: '</script>',
		value: '</script>',
		url: '%3C%2Fscript%3E',
		json: '</script>',
		form: '%3C%2Fscript%3E',
		header: '</script>',
	},
	{ name: 'emoji', value: '😀', url: '%F0%9F%98%80', json: '😀', form: '%F0%9F%98%80', header: 'refused' },
	{ name: 'ampersand', value: 'a&b', url: 'a%26b', json: 'a&b', form: 'a%26b', header: 'a&b' },
	{ name: 'equals', value: 'a=b', url: 'a%3Db', json: 'a=b', form: 'a%3Db', header: 'a=b' },
	{ name: 'slash', value: 'a/b', url: 'a%2Fb', json: 'a/b', form: 'a%2Fb', header: 'a/b' },
	{ name: 'question mark', value: 'a?b', url: 'a%3Fb', json: 'a?b', form: 'a%3Fb', header: 'a?b' },
	{ name: 'hash', value: 'a#b', url: 'a%23b', json: 'a#b', form: 'a%23b', header: 'a#b' },
	{ name: 'at sign', value: 'a@b', url: 'a%40b', json: 'a@b', form: 'a%40b', header: 'a@b' },
	{ name: 'percent', value: '100%', url: '100%25', json: '100%', form: '100%25', header: '100%' },
	{ name: 'space', value: 'a b', url: 'a%20b', json: 'a b', form: 'a+b', header: 'a b' },
	{ name: 'plus', value: 'a+b', url: 'a%2Bb', json: 'a+b', form: 'a%2Bb', header: 'a+b' },
	{ name: 'non-ASCII (Latin-1)', value: 'Zoë', url: 'Zo%C3%AB', json: 'Zoë', form: 'Zo%C3%AB', header: 'Zoë' },
	{ name: 'non-ASCII (CJK)', value: '東京', url: '%E6%9D%B1%E4%BA%AC', json: '東京', form: '%E6%9D%B1%E4%BA%AC', header: 'refused' },
	{
		name: "URL sub-delims it's (x)!~*",
		value: "it's (x)!~*",
		url: "it's%20(x)!~*",
		json: "it's (x)!~*",
		form: 'it%27s+%28x%29%21%7E*',
		header: "it's (x)!~*",
	},
	{ name: 'HTML specials', value: '<b>&amp;`', url: '%3Cb%3E%26amp%3B%60', json: '<b>&amp;`', form: '%3Cb%3E%26amp%3B%60', header: '<b>&amp;`' },
	{ name: 'host change evil.com/', value: 'evil.com/', url: 'evil.com%2F', json: 'evil.com/', form: 'evil.com%2F', header: 'evil.com/' },
	{ name: 'host change @evil.com', value: '@evil.com', url: '%40evil.com', json: '@evil.com', form: '%40evil.com', header: '@evil.com' },
	{ name: 'port change :8080', value: ':8080', url: '%3A8080', json: ':8080', form: '%3A8080', header: ':8080' },
	{ name: 'authority //evil.com', value: '//evil.com', url: '%2F%2Fevil.com', json: '//evil.com', form: '%2F%2Fevil.com', header: '//evil.com' },
];

const TAG_FORMS = ['{{v.0}}', '{{{v.0}}}', '{{& v.0}}'] as const;

function viewWith(value: string) {
	return buildProfileView({ id: 'p-1', domainGroup: 'DEFAULT', legislation: 'NONE', properties: { v: [value] } });
}

function render(template: string, context: TemplateContext, value: string): string {
	return compileTemplate(template, context).render(viewWith(value));
}

describe.each(TAG_FORMS)('escaping table with %s', (tag) => {
	describe.each(ROWS)('$name', (row) => {
		it('url: percent-encoded in path and query, host untouched', () => {
			const out = render(`https://api.example.com/p/${tag}?q=${tag}`, 'url', row.value);
			expect(out).toBe(`https://api.example.com/p/${row.url}?q=${row.url.replace(/'/g, '%27')}`);
			const url = new URL(out);
			expect(url.protocol).toBe('https:');
			expect(url.host).toBe('api.example.com');
			expect(url.username).toBe('');
			expect(url.searchParams.get('q')).toBe(row.value);
			expect(decodeURIComponent(url.pathname.slice('/p/'.length))).toBe(row.value);
		});

		it('json: string-escaped inside quotes and arrives intact', () => {
			const out = render(`{"v": "${tag}"}`, 'json', row.value);
			expect(out).toBe(`{"v": "${row.json}"}`);
			expect(JSON.parse(out)).toEqual({ v: row.value });
		});

		it('form: application/x-www-form-urlencoded, as URLSearchParams does it', () => {
			const out = render(`k=${tag}&z=1`, 'form', row.value);
			expect(out).toBe(`k=${row.form}&z=1`);
			expect(new URLSearchParams({ k: row.value, z: '1' }).toString()).toBe(out);
			expect(new URLSearchParams(out).get('k')).toBe(row.value);
		});

		it('header: as it is, or refused', () => {
			const compiled = compileTemplate(`x ${tag}`, 'header', { label: 'header "X-Value"' });
			if (row.header === 'refused') {
				expect(() => compiled.render(viewWith(row.value))).toThrow(TemplateRenderError);
				expect(() => compiled.render(viewWith(row.value))).toThrow(/^The header "X-Value" template renders /);
			} else {
				expect(compiled.render(viewWith(row.value))).toBe(`x ${row.header}`);
			}
		});

		it('text: raw', () => {
			expect(render(`<${tag}>`, 'text', row.value)).toBe(`<${row.value}>`);
		});
	});
});
