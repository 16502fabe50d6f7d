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

export function isPropertyValue(value: unknown): value is PropertyValue {
	return (
		typeof value === 'string' ||
		typeof value === 'boolean' ||
		(typeof value === 'number' && Number.isFinite(value))
	);
}

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
