/**
 * The four import modes (DESIGN.md 2.1) as pure functions over a profile's properties. Nothing here
 * touches a store: the store calls `applyImports` inside its transaction and writes the outcome.
 */
import { ValidationError, type ValidationIssue } from '../errors';
import { isImportMode } from './importMode';
import { DEFAULT_LIMITS, valueCountIssues, type ProfileLimits } from './limits';
import {
	hasNonEmptyValue,
	isPropertyValue,
	isValidPropertyId,
	sameValues,
	toNumber,
	valueKey,
} from './propertyValues';
import type {
	ImportMode,
	ProfileChanges,
	ProfileProperties,
	PropertyImport,
	PropertyValue,
} from './types';

// Callers reading modes from parameters find the parser next to the modes it names.
export { parseImportMode } from './importMode';

/** What one mode made of one property: the new values, or why it could not. */
export type ModeResult = { ok: true; values: PropertyValue[] } | { ok: false; problems: string[] };

/** `set`: the incoming values replace the stored ones. */
export function setValues(_before: readonly PropertyValue[], values: readonly PropertyValue[]): ModeResult {
	return { ok: true, values: [...values] };
}

/** `setIfEmpty`: like `set`, but only when the property is absent or holds no non-empty value. */
export function setIfEmptyValues(
	before: readonly PropertyValue[],
	values: readonly PropertyValue[],
): ModeResult {
	return { ok: true, values: hasNonEmptyValue(before) ? [...before] : [...values] };
}

/** `add`: appends the values not already present (compared by string form), order kept. */
export function addValues(before: readonly PropertyValue[], values: readonly PropertyValue[]): ModeResult {
	const seen = new Set(before.map(valueKey));
	const after = [...before];
	for (const value of values) {
		const key = valueKey(value);
		if (seen.has(key)) continue;
		seen.add(key);
		after.push(value);
	}
	return { ok: true, values: after };
}

/**
 * `sum` (alias `INCREMENT`): adds the incoming numbers to the stored number. An absent property
 * counts as 0; the stored number is its first non-empty value. Numeric strings ("3", "2.5") count as
 * numbers. The result must be finite, and exact: beyond 2^53 a double cannot hold every integer, so
 * `+1` could silently change nothing. Problems never quote the stored value (it may be personal data
 * the caller must not read).
 */
export function sumValues(before: readonly PropertyValue[], values: readonly PropertyValue[]): ModeResult {
	const problems: string[] = [];
	let delta = 0;
	for (const value of values) {
		const n = toNumber(value);
		if (n === undefined) problems.push(`sum needs numbers, got ${describeIncoming(value)}`);
		else if (Math.abs(n) > Number.MAX_SAFE_INTEGER) problems.push(`sum needs numbers within ±2^53 (9007199254740991), got ${n}`);
		else delta += n;
	}
	const stored = before.find((v) => !(typeof v === 'string' && v.trim() === ''));
	let base = 0;
	if (stored !== undefined) {
		const n = toNumber(stored);
		if (n === undefined) problems.push('sum needs a stored number, and the stored value is not a number');
		else base = n;
	}
	if (problems.length) return { ok: false, problems };
	if (delta === 0) return { ok: true, values: [...before] };
	const total = base + delta;
	if (!Number.isFinite(total) || Math.abs(total) > Number.MAX_SAFE_INTEGER) {
		return {
			ok: false,
			problems: ['the sum would be beyond ±2^53 (9007199254740991), where numbers are no longer exact'],
		};
	}
	return { ok: true, values: [roundSum(total)] };
}

/** The caller's own value, shortened: it is theirs, but an error message is not an echo service. */
function describeIncoming(value: PropertyValue): string {
	const text = JSON.stringify(value);
	return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

/**
 * Binary floating point turns 0.1 + 0.2 into 0.30000000000000004; 15 significant digits is what a
 * double holds exactly in decimal, so rounding there only removes that noise. Integers are exact
 * up to 2^53 and are kept as they are.
 */
function roundSum(n: number): number {
	return Number.isInteger(n) ? n : Number(n.toPrecision(15));
}

const MODES: Record<ImportMode, (before: readonly PropertyValue[], values: readonly PropertyValue[]) => ModeResult> = {
	set: setValues,
	setIfEmpty: setIfEmptyValues,
	add: addValues,
	sum: sumValues,
};

/** Applies one mode to one property's values. */
export function applyMode(
	mode: ImportMode,
	before: readonly PropertyValue[],
	values: readonly PropertyValue[],
): ModeResult {
	return MODES[mode](before, values);
}

export interface ImportOutcome {
	/** The properties after the imports; a property left without values is removed. */
	properties: ProfileProperties;
	/** Only the properties whose values changed: `before` as it was, `after` as it is now. */
	changes: ProfileChanges;
}

/**
 * Applies a change set in order (several imports of one property compose). Every issue is collected
 * first; if there is any, a ValidationError lists them all and nothing is returned to write.
 * `properties` is not modified.
 */
export function applyImports(
	properties: Readonly<ProfileProperties>,
	imports: readonly PropertyImport[],
	limits: ProfileLimits = DEFAULT_LIMITS,
): ImportOutcome {
	const issues: ValidationIssue[] = [];
	const current = new Map<string, PropertyValue[]>();
	const lastMode = new Map<string, ImportMode>();
	const valuesOf = (property: string): PropertyValue[] =>
		current.get(property) ??
		(Object.prototype.hasOwnProperty.call(properties, property) ? properties[property] : undefined) ??
		[];

	imports.forEach((imp, index) => {
		const shapeIssues = checkImportShape(imp, index);
		if (shapeIssues.length) {
			issues.push(...shapeIssues);
			return;
		}
		const result = applyMode(imp.mode, valuesOf(imp.property), imp.values);
		if (!result.ok) {
			issues.push(...result.problems.map((message) => ({ target: imp.property, message })));
			return;
		}
		current.set(imp.property, result.values);
		lastMode.set(imp.property, imp.mode);
	});
	issues.push(...valueCountIssues(Object.fromEntries(current), current.keys(), limits));
	if (issues.length) throw new ValidationError(issues);

	const next: ProfileProperties = { ...properties };
	const changes: ProfileChanges = {};
	for (const [property, after] of current) {
		const before = Object.prototype.hasOwnProperty.call(properties, property) ? properties[property] : [];
		if (after.length) next[property] = after;
		else delete next[property];
		if (!sameValues(before, after)) {
			changes[property] = { mode: lastMode.get(property) as ImportMode, before: [...before], after: [...after] };
		}
	}
	return { properties: next, changes };
}

/** Checks what types cannot promise at run time: imports come from workflows and requests. */
function checkImportShape(imp: PropertyImport, index: number): ValidationIssue[] {
	const where = isValidPropertyId(imp?.property) ? imp.property : `imports[${index}]`;
	const issues: ValidationIssue[] = [];
	if (typeof imp?.property !== 'string' || imp.property === '') {
		issues.push({ target: where, message: 'the property id is missing' });
	} else if (!isValidPropertyId(imp.property)) {
		issues.push({ target: where, message: `${JSON.stringify(imp.property)} cannot be a property id` });
	}
	if (!isImportMode(imp?.mode)) {
		issues.push({ target: where, message: `unknown import mode ${JSON.stringify(imp?.mode)}` });
	}
	if (!Array.isArray(imp?.values)) {
		issues.push({ target: where, message: 'values must be an array' });
	} else {
		imp.values.forEach((value: unknown) => {
			if (!isPropertyValue(value)) {
				issues.push({
					target: where,
					message: `values must be strings, finite numbers or booleans, got ${describe(value)}`,
				});
			}
		});
	}
	return issues;
}

function describe(value: unknown): string {
	if (value === null || value === undefined) return String(value);
	if (typeof value === 'number') return String(value);
	if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
	if (typeof value === 'string') return 'a string that is not valid Unicode';
	return typeof value;
}
