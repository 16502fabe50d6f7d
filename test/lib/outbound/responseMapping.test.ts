import { ConfigurationError } from '../../../lib/errors';
import { compileResponseMappings, matchValues } from '../../../lib/outbound/responseMapping';

const response = {
	id: 'crm-123',
	score: 7,
	active: false,
	tags: ['vip', 'newsletter'],
	contact: { emails: [{ address: 'a@b.c', primary: true }, { address: 'x@y.z', primary: false }] },
	nested: { a: [1, 2] },
	nothing: null,
	'odd key': 'odd',
};

describe('compileResponseMappings', () => {
	it('turns a parsed response into property imports, in mapping order', () => {
		const mappings = compileResponseMappings([
			{ path: '$.id', property: 'crm_id', mode: 'set' },
			{ path: '$.tags', property: 'interests', mode: 'add' },
			{ path: '$.contact.emails[*].address', property: 'email', mode: 'setIfEmpty' },
			{ path: '$.score', property: 'points', mode: 'INCREMENT' },
			{ path: '$.active', property: 'active', mode: 'SET' },
			{ path: "$['odd key']", property: 'odd', mode: 'set' },
		]);
		expect(mappings.importsFrom(response)).toEqual([
			{ property: 'crm_id', mode: 'set', values: ['crm-123'] },
			{ property: 'interests', mode: 'add', values: ['vip', 'newsletter'] },
			{ property: 'email', mode: 'setIfEmpty', values: ['a@b.c', 'x@y.z'] },
			{ property: 'points', mode: 'sum', values: [7] },
			{ property: 'active', mode: 'set', values: [false] },
			{ property: 'odd', mode: 'set', values: ['odd'] },
		]);
	});

	it('uses jsonpath-plus filters in the safe form', () => {
		const mappings = compileResponseMappings([
			{ path: '$.contact.emails[?(@.primary)].address', property: 'email', mode: 'set' },
		]);
		expect(mappings.importsFrom(response)).toEqual([{ property: 'email', mode: 'set', values: ['a@b.c'] }]);
	});

	it('brings no import for a path that matches nothing or only null, so nothing is cleared', () => {
		const mappings = compileResponseMappings([
			{ path: '$.missing', property: 'a', mode: 'set' },
			{ path: '$.nothing', property: 'b', mode: 'set' },
			{ path: '$.id', property: 'c', mode: 'set' },
		]);
		expect(mappings.importsFrom(response)).toEqual([{ property: 'c', mode: 'set', values: ['crm-123'] }]);
		expect(mappings.importsFrom(null)).toEqual([]);
		expect(mappings.importsFrom('plain text')).toEqual([]);
	});

	it('stores objects and nested arrays as JSON text', () => {
		const mappings = compileResponseMappings([{ path: '$.nested', property: 'raw', mode: 'set' }]);
		expect(mappings.importsFrom(response)).toEqual([{ property: 'raw', mode: 'set', values: ['{"a":[1,2]}'] }]);
	});

	it('compiles nothing for no mappings', () => {
		expect(compileResponseMappings(undefined).importsFrom(response)).toEqual([]);
		expect(compileResponseMappings([]).mappings).toEqual([]);
	});

	it('lists every configuration problem at once', () => {
		let error: unknown;
		try {
			compileResponseMappings([
				{ path: 'id', property: 'crm_id', mode: 'set' },
				{ path: '$.ok', property: ' ', mode: 'set' },
				{ path: '$.ok', property: 'x', mode: 'replace' },
				{ path: '$.ok', property: 'fine', mode: 'add' },
			]);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigurationError);
		const issues = (error as ConfigurationError).issues;
		expect(issues.map((i) => i.target)).toEqual([
			'responseMappings[0].path',
			'responseMappings[1].property',
			'responseMappings[2].mode',
		]);
		expect(issues[0].message).toMatch(/must start with "\$"/);
		expect(issues[2].message).toMatch(/unknown import mode "replace"/);
	});
});

describe('matchValues', () => {
	it.each([
		['a string', 'x', ['x']],
		['a number', 3, [3]],
		['zero and false', [0, false], [0, false]],
		['an array', ['a', 1, true], ['a', 1, true]],
		['nulls inside an array', ['a', null], ['a']],
		['null', null, []],
		['an object', { a: 1 }, ['{"a":1}']],
		['an array of objects', [{ a: 1 }, ['b']], ['{"a":1}', '["b"]']],
	])('%s', (_label, match, values) => {
		expect(matchValues(match)).toEqual(values);
	});
});
