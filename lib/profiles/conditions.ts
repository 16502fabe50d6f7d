/**
 * Conditions over profile properties: what a segment is, and what a search asks (DESIGN 2.1, 2.4).
 * A plain JSON shape, so a definition can be stored, shown and compared; the Profiles node
 * translates n8n's filter UI into it. Compiled once per definition, then cheap per profile.
 *
 * Properties are multi-valued: a positive operator holds when any value satisfies it; a negative one
 * (notEquals, notContains, notExists, isEmpty) when no value contradicts it.
 */
import { ConfigurationError, type ValidationIssue } from '../errors';
import { hasNonEmptyValue, toNumber, valueKey } from './propertyValues';
import type { ProfileProperties, PropertyValue } from './types';

export const CONDITION_OPERATORS = [
	'exists',
	'notExists',
	'isEmpty',
	'isNotEmpty',
	'equals',
	'notEquals',
	'contains',
	'notContains',
	'startsWith',
	'endsWith',
	'gt',
	'gte',
	'lt',
	'lte',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

const UNARY: ReadonlySet<ConditionOperator> = new Set(['exists', 'notExists', 'isEmpty', 'isNotEmpty']);
const NUMERIC: ReadonlySet<ConditionOperator> = new Set(['gt', 'gte', 'lt', 'lte']);

export interface Condition {
	property: string;
	operator: ConditionOperator;
	/** Not used by exists, notExists, isEmpty, isNotEmpty. */
	value?: string | number | boolean;
	/** For the text operators; default false. */
	ignoreCase?: boolean;
}

export interface Conditions {
	/** Default `and`. */
	combinator?: 'and' | 'or';
	conditions: Condition[];
}

export type ProfilePredicate = (properties: Readonly<ProfileProperties>) => boolean;

type ValueTest = (value: PropertyValue) => boolean;

function compileOne(condition: Condition, where: string, issues: ValidationIssue[]): ProfilePredicate | undefined {
	const { property, operator } = condition ?? ({} as Condition);
	if (typeof property !== 'string' || property.trim() === '') {
		issues.push({ target: where, message: 'the property is missing' });
		return undefined;
	}
	if (!(CONDITION_OPERATORS as readonly string[]).includes(operator)) {
		issues.push({ target: where, message: `unknown operator ${JSON.stringify(operator)}; use one of ${CONDITION_OPERATORS.join(', ')}` });
		return undefined;
	}
	const name = property.trim();
	const valuesOf = (properties: Readonly<ProfileProperties>): readonly PropertyValue[] =>
		Object.hasOwn(properties, name) ? properties[name] : [];
	if (UNARY.has(operator)) {
		switch (operator) {
			case 'exists':
				return (p) => valuesOf(p).length > 0;
			case 'notExists':
				return (p) => valuesOf(p).length === 0;
			case 'isEmpty':
				return (p) => !hasNonEmptyValue(valuesOf(p) as PropertyValue[]);
			default:
				return (p) => hasNonEmptyValue(valuesOf(p) as PropertyValue[]);
		}
	}
	const raw = condition.value;
	if (raw === undefined || raw === null || (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')) {
		issues.push({ target: where, message: `the operator ${operator} needs a value` });
		return undefined;
	}
	let test: ValueTest;
	let negate = false;
	if (NUMERIC.has(operator)) {
		const bound = toNumber(raw);
		if (bound === undefined) {
			issues.push({ target: where, message: `the operator ${operator} needs a number, got ${JSON.stringify(raw)}` });
			return undefined;
		}
		const cmp: Record<string, (n: number) => boolean> = {
			gt: (n) => n > bound,
			gte: (n) => n >= bound,
			lt: (n) => n < bound,
			lte: (n) => n <= bound,
		};
		const compare = cmp[operator];
		test = (value) => {
			const n = toNumber(value);
			return n !== undefined && compare(n);
		};
	} else {
		const fold = condition.ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
		const wanted = fold(valueKey(raw));
		const base = operator.replace(/^not/, '').toLowerCase();
		negate = operator.startsWith('not');
		switch (base) {
			case 'equals':
				test = (value) => fold(valueKey(value)) === wanted;
				break;
			case 'contains':
				test = (value) => fold(valueKey(value)).includes(wanted);
				break;
			case 'startswith':
				test = (value) => fold(valueKey(value)).startsWith(wanted);
				break;
			default:
				test = (value) => fold(valueKey(value)).endsWith(wanted);
		}
	}
	return negate ? (p) => !valuesOf(p).some(test) : (p) => valuesOf(p).some(test);
}

/** Checks and compiles conditions; every problem is listed in one ConfigurationError. */
export function compileConditions(input: unknown, target = 'conditions'): ProfilePredicate {
	const issues: ValidationIssue[] = [];
	const conditions = input as Conditions | undefined;
	if (typeof conditions !== 'object' || conditions === null || !Array.isArray(conditions.conditions)) {
		throw new ConfigurationError([{ target, message: 'must be an object with a list of conditions' }]);
	}
	const combinator = conditions.combinator ?? 'and';
	if (combinator !== 'and' && combinator !== 'or') {
		issues.push({ target, message: `the combinator must be "and" or "or", not ${JSON.stringify(combinator)}` });
	}
	const predicates = conditions.conditions.map((c, i) => compileOne(c, `${target}[${i}]`, issues));
	if (issues.length) throw new ConfigurationError(issues);
	const compiled = predicates as ProfilePredicate[];
	if (!compiled.length) return () => true;
	return combinator === 'or' ? (p) => compiled.some((f) => f(p)) : (p) => compiled.every((f) => f(p));
}
