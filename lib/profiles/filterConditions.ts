/**
 * n8n's filter (conditions) parameter, translated into the engine's conditions (lib/profiles/
 * conditions.ts), in this one place. The shape is declared here structurally, so lib/ stays free of
 * n8n imports: `{ conditions: [{ leftValue, rightValue, operator: { type, operation } }], combinator,
 * options: { caseSensitive } }`.
 *
 * The left value of a condition is the PROPERTY NAME (plain text); the right value is the value to
 * compare with. Properties are lists, so an "array contains x" asks whether one of the values is x.
 * What has no faithful translation is refused with a message that says what to use instead.
 */
import { ConfigurationError, type ValidationIssue } from '../errors';
import type { Condition, ConditionOperator, Conditions } from './conditions';

export interface FilterOperatorLike {
	type?: string;
	operation?: string;
}

export interface FilterConditionLike {
	id?: string;
	leftValue?: unknown;
	rightValue?: unknown;
	operator?: FilterOperatorLike;
}

export interface FilterLike {
	conditions?: FilterConditionLike[];
	combinator?: string;
	options?: { caseSensitive?: unknown };
}

/** Operations whose meaning is the same for every type n8n offers. */
const ANY_TYPE: Record<string, ConditionOperator> = {
	exists: 'exists',
	notExists: 'notExists',
	empty: 'isEmpty',
	notEmpty: 'isNotEmpty',
};

/** Per type: n8n's operation -> the engine's operator (text operators honour case sensitivity). */
const BY_TYPE: Record<string, Record<string, ConditionOperator>> = {
	string: {
		equals: 'equals',
		notEquals: 'notEquals',
		contains: 'contains',
		notContains: 'notContains',
		startsWith: 'startsWith',
		endsWith: 'endsWith',
	},
	number: { equals: 'equals', notEquals: 'notEquals', gt: 'gt', gte: 'gte', lt: 'lt', lte: 'lte' },
	boolean: { equals: 'equals', notEquals: 'notEquals' },
	// A property is a list of values: "contains x" is "one of its values is x".
	array: { contains: 'equals', notContains: 'notEquals', empty: 'notExists', notEmpty: 'exists' },
};

/** Why an operation n8n offers cannot be a profile condition, and what to use instead. */
function refusal(type: string, operation: string): string {
	if (operation === 'regex' || operation === 'notRegex') {
		return 'regular expressions are not supported in profile conditions; use contains, starts with or ends with';
	}
	if (operation === 'notStartsWith' || operation === 'notEndsWith') {
		return `"${operation}" is not supported; use starts with / ends with, or not contains`;
	}
	if (type === 'array' && operation.startsWith('length')) {
		return 'list lengths are not supported: use "exists" / "does not exist", or "is empty" / "is not empty"';
	}
	if (type === 'dateTime') {
		return 'date comparisons are not supported yet: store dates as numbers (for example Unix seconds) and compare them as numbers';
	}
	if (type === 'object') {
		return 'object conditions are not supported: profile values are strings, numbers and booleans';
	}
	return `the ${type} operation "${operation}" is not supported`;
}

/** A map's own entry (never one from Object.prototype, whatever the operation is called). */
function own<T>(map: Record<string, T>, key: string): T | undefined {
	return Object.hasOwn(map, key) ? map[key] : undefined;
}

function rightValueOf(value: unknown): string | number | boolean | undefined {
	if (typeof value === 'string' || typeof value === 'boolean') return value;
	if (typeof value === 'number' && Number.isFinite(value)) return value;
	return undefined;
}

const blank = (value: unknown) => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/**
 * Translates a filter parameter value into engine conditions. A row left blank (no property, no
 * value) is ignored, as n8n's editor starts with one. Every problem is listed in one
 * ConfigurationError, each named `Condition <n>`.
 */
export function conditionsFromFilter(filter: unknown, target = 'Conditions'): Conditions {
	if (filter === undefined || filter === null || filter === '') return { combinator: 'and', conditions: [] };
	if (typeof filter !== 'object' || Array.isArray(filter)) {
		throw new ConfigurationError([{ target, message: 'must be a set of conditions' }]);
	}
	const value = filter as FilterLike;
	const issues: ValidationIssue[] = [];
	const combinator = value.combinator ?? 'and';
	if (combinator !== 'and' && combinator !== 'or') {
		issues.push({ target, message: `the combinator must be "and" or "or", not ${JSON.stringify(combinator)}` });
	}
	const ignoreCase = value.options?.caseSensitive === false;
	const rows = Array.isArray(value.conditions) ? value.conditions : [];
	const conditions: Condition[] = [];
	rows.forEach((row, index) => {
		const where = `${target}: Condition ${index + 1}`;
		const type = String(row?.operator?.type ?? 'string');
		const operation = String(row?.operator?.operation ?? '');
		const left = row?.leftValue;
		if (blank(left) && blank(row?.rightValue) && !own(ANY_TYPE, operation)) return;
		if (typeof left !== 'string' || left.trim() === '') {
			issues.push({
				target: where,
				message: 'the left value must be the name of a profile property, as plain text (for example email)',
			});
			return;
		}
		const property = left.trim();
		const operator: ConditionOperator | undefined =
			own(own(BY_TYPE, type) ?? {}, operation) ??
			own(ANY_TYPE, operation) ??
			(type === 'boolean' && (operation === 'true' || operation === 'false') ? 'equals' : undefined);
		if (!operator) {
			issues.push({ target: where, message: refusal(type, operation) });
			return;
		}
		if (operator === 'exists' || operator === 'notExists' || operator === 'isEmpty' || operator === 'isNotEmpty') {
			conditions.push({ property, operator });
			return;
		}
		if (type === 'boolean' && (operation === 'true' || operation === 'false')) {
			conditions.push({ property, operator, value: operation === 'true' });
			return;
		}
		const right = rightValueOf(row?.rightValue);
		if (right === undefined || (typeof right === 'string' && right === '' && type !== 'string')) {
			issues.push({
				target: where,
				message: `"${operation}" needs a value to compare ${property} with (a text, a number or a boolean)`,
			});
			return;
		}
		const textual = type === 'string' || type === 'array';
		conditions.push({ property, operator, value: right, ...(textual && ignoreCase ? { ignoreCase: true } : {}) });
	});
	if (issues.length) throw new ConfigurationError(issues);
	return { combinator: combinator as 'and' | 'or', conditions };
}
