/** Small rules about property values that the import modes and the store share. */
import type { PropertyValue } from './types';

/**
 * The string form of a value. `add` compares by it and the identifier index stores it, so 3 and "3"
 * are the same value for both.
 */
export function valueKey(value: PropertyValue): string {
	return String(value);
}

/** Only strings can be empty; a number or a boolean (even 0 or false) is a value. */
export function isEmptyValue(value: PropertyValue): boolean {
	return typeof value === 'string' && value.trim() === '';
}

export function hasNonEmptyValue(values: readonly PropertyValue[] | undefined): boolean {
	return values !== undefined && values.some((v) => !isEmptyValue(v));
}

/**
 * Strings must be valid Unicode: a lone UTF-16 surrogate cannot be stored as UTF-8 without being
 * replaced, so two different values would become one (and match one profile as an identifier).
 */
export function isPropertyValue(value: unknown): value is PropertyValue {
	return (
		(typeof value === 'string' && value.isWellFormed()) ||
		typeof value === 'boolean' ||
		(typeof value === 'number' && Number.isFinite(value))
	);
}

/** Identifiers are scalars: a non-empty string (valid Unicode) or a finite number (DESIGN 2.1). */
export function identifierProblem(value: unknown): string | undefined {
	if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'must be a finite number or a string';
	if (typeof value !== 'string') {
		return `must be a string or a number, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`;
	}
	if (value.trim() === '') return 'must not be empty';
	if (!value.isWellFormed()) return 'is not valid Unicode (it holds a lone UTF-16 surrogate)';
	if (value.length > MAX_IDENTIFIER_LENGTH) return `is longer than ${MAX_IDENTIFIER_LENGTH} characters`;
	return undefined;
}

/** Longer identifiers are refused: an index key, not a document. */
export const MAX_IDENTIFIER_LENGTH = 1024;

// Decimal notation only: "3", "-2.5", ".5", "1e3". Not "0x10", "", " ", "Infinity" or "1,5".
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The number a value stands for (numbers, numeric strings), or undefined. */
export function toNumber(value: PropertyValue): number | undefined {
	if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
	if (typeof value !== 'string') return undefined;
	const text = value.trim();
	if (!NUMERIC.test(text)) return undefined;
	const n = Number(text);
	return Number.isFinite(n) ? n : undefined;
}

/** Same values in the same order, compared strictly (3 and "3" differ here: the stored type changed). */
export function sameValues(a: readonly PropertyValue[], b: readonly PropertyValue[]): boolean {
	return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Any non-empty string names a property, except `__proto__`: as an object key it would set the
 * object's prototype instead of holding values.
 */
export function isValidPropertyId(property: unknown): property is string {
	return typeof property === 'string' && property !== '' && property !== '__proto__';
}
