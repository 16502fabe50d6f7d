/** n8n filter values -> engine conditions: what translates, what is refused and why. */
import { ConfigurationError } from '../../../lib/errors';
import { compileConditions } from '../../../lib/profiles/conditions';
import { conditionsFromFilter, type FilterLike } from '../../../lib/profiles/filterConditions';

const row = (leftValue: unknown, type: string, operation: string, rightValue: unknown = '') => ({
	id: 'x',
	leftValue,
	rightValue,
	operator: { type, operation },
});

const one = (leftValue: unknown, type: string, operation: string, rightValue?: unknown, options?: FilterLike['options']) =>
	conditionsFromFilter({ combinator: 'and', options, conditions: [row(leftValue, type, operation, rightValue)] }).conditions[0];

function issuesOf(filter: unknown): string[] {
	try {
		conditionsFromFilter(filter);
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigurationError);
		return (error as ConfigurationError).issues.map((i) => `${i.target}: ${i.message}`);
	}
	throw new Error('not refused');
}

describe('conditionsFromFilter', () => {
	it.each([
		['string', 'equals', 'a', { operator: 'equals', value: 'a' }],
		['string', 'notEquals', 'a', { operator: 'notEquals', value: 'a' }],
		['string', 'contains', 'a', { operator: 'contains', value: 'a' }],
		['string', 'notContains', 'a', { operator: 'notContains', value: 'a' }],
		['string', 'startsWith', 'a', { operator: 'startsWith', value: 'a' }],
		['string', 'endsWith', 'a', { operator: 'endsWith', value: 'a' }],
		['string', 'exists', '', { operator: 'exists' }],
		['string', 'notExists', '', { operator: 'notExists' }],
		['string', 'empty', '', { operator: 'isEmpty' }],
		['string', 'notEmpty', '', { operator: 'isNotEmpty' }],
		['number', 'equals', 3, { operator: 'equals', value: 3 }],
		['number', 'notEquals', 3, { operator: 'notEquals', value: 3 }],
		['number', 'gt', 3, { operator: 'gt', value: 3 }],
		['number', 'gte', '3', { operator: 'gte', value: '3' }],
		['number', 'lt', 3, { operator: 'lt', value: 3 }],
		['number', 'lte', 3, { operator: 'lte', value: 3 }],
		['boolean', 'true', '', { operator: 'equals', value: true }],
		['boolean', 'false', '', { operator: 'equals', value: false }],
		['boolean', 'equals', true, { operator: 'equals', value: true }],
		['array', 'contains', 'vip', { operator: 'equals', value: 'vip' }],
		['array', 'notContains', 'vip', { operator: 'notEquals', value: 'vip' }],
		['array', 'empty', '', { operator: 'notExists' }],
		['array', 'notEmpty', '', { operator: 'exists' }],
		['array', 'exists', '', { operator: 'exists' }],
		['dateTime', 'exists', '', { operator: 'exists' }],
	])('%s %s translates', (type, operation, right, expected) => {
		expect(one('prop', type, operation, right)).toEqual({ property: 'prop', ...expected });
	});

	it('keeps the combinator, trims the property name, and ignores the blank row the editor starts with', () => {
		expect(
			conditionsFromFilter({
				combinator: 'or',
				conditions: [row(' email ', 'string', 'equals', 'a@b.c'), row('', 'string', 'equals', ''), row('x', 'number', 'gt', 1)],
			}),
		).toEqual({
			combinator: 'or',
			conditions: [
				{ property: 'email', operator: 'equals', value: 'a@b.c' },
				{ property: 'x', operator: 'gt', value: 1 },
			],
		});
		expect(conditionsFromFilter({})).toEqual({ combinator: 'and', conditions: [] });
		expect(conditionsFromFilter(undefined)).toEqual({ combinator: 'and', conditions: [] });
	});

	it('ignores case for text and list operators only when the filter is not case sensitive', () => {
		expect(one('city', 'string', 'equals', 'Paris', { caseSensitive: false })).toEqual({ property: 'city', operator: 'equals', value: 'Paris', ignoreCase: true });
		expect(one('tags', 'array', 'contains', 'VIP', { caseSensitive: false })).toMatchObject({ ignoreCase: true });
		expect(one('n', 'number', 'gt', 1, { caseSensitive: false })).toEqual({ property: 'n', operator: 'gt', value: 1 });
		expect(one('city', 'string', 'equals', 'Paris', { caseSensitive: true })).not.toHaveProperty('ignoreCase');
	});

	it('gives conditions the engine compiles and applies to multi-valued properties', () => {
		const matches = compileConditions(
			conditionsFromFilter({
				combinator: 'and',
				options: { caseSensitive: false },
				conditions: [row('tags', 'array', 'contains', 'vip'), row('spent', 'number', 'gte', 100), row('email', 'string', 'endsWith', '@EXAMPLE.COM')],
			}),
		);
		expect(matches({ tags: ['a', 'VIP'], spent: ['150'], email: ['x@example.com'] })).toBe(true);
		expect(matches({ tags: ['a'], spent: [150], email: ['x@example.com'] })).toBe(false);
		expect(matches({ tags: ['vip'], spent: [99], email: ['x@example.com'] })).toBe(false);
	});

	it('refuses what has no faithful translation, naming each condition and saying what to use', () => {
		expect(
			issuesOf({
				combinator: 'and',
				conditions: [
					row('a', 'string', 'regex', '^x'),
					row('a', 'string', 'notStartsWith', 'x'),
					row('a', 'array', 'lengthGt', 2),
					row('a', 'dateTime', 'after', '2024-01-01'),
					row('a', 'object', 'equals', '{}'),
					row('', 'string', 'equals', 'orphan value'),
					row(42, 'number', 'gt', 1),
					row('a', 'number', 'gt', ''),
					row('a', 'string', 'constructor', 'x'),
				],
			}),
		).toEqual([
			'Conditions: Condition 1: regular expressions are not supported in profile conditions; use contains, starts with or ends with',
			'Conditions: Condition 2: "notStartsWith" is not supported; use starts with / ends with, or not contains',
			'Conditions: Condition 3: list lengths are not supported: use "exists" / "does not exist", or "is empty" / "is not empty"',
			'Conditions: Condition 4: date comparisons are not supported yet: store dates as numbers (for example Unix seconds) and compare them as numbers',
			'Conditions: Condition 5: object conditions are not supported: profile values are strings, numbers and booleans',
			'Conditions: Condition 6: the left value must be the name of a profile property, as plain text (for example email)',
			'Conditions: Condition 7: the left value must be the name of a profile property, as plain text (for example email)',
			'Conditions: Condition 8: "gt" needs a value to compare a with (a text, a number or a boolean)',
			'Conditions: Condition 9: the string operation "constructor" is not supported',
		]);
		expect(issuesOf({ combinator: 'xor', conditions: [] })).toEqual(['Conditions: the combinator must be "and" or "or", not "xor"']);
		expect(issuesOf('email = x')).toEqual(['Conditions: must be a set of conditions']);
	});
});
