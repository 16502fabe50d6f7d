/**
 * Where a mapping's values come from in a request (the mapping's `field`):
 * - a field starting with `$` is a JsonPath, applied to the JSON body, or to the nested form of
 *   form fields and URL parameters (`data[merges][EMAIL]` is `$.data.merges.EMAIL`);
 * - any other field is an exact name: a form field name exactly as sent
 *   (`data[merges][EMAIL]` is one name), a URL parameter, or a top-level key of a JSON body.
 *
 * Values come out as profile property values: arrays are flattened, strings, finite numbers and
 * booleans are kept as they are, null, undefined and '' are dropped ("missing fields change
 * nothing"), and objects become their JSON text (so a mapped object is visible, not lost).
 */
import { ConfigurationError } from '../errors';
import type { RequestData } from '../inbound/requestData';
import type { PropertyValue } from '../profiles/types';
import { compileJsonPath } from './jsonPath';

export interface CompiledFieldSelector {
	/** The field as configured (trimmed). */
	readonly field: string;
	/** `jsonPath` when the field starts with `$`, otherwise `name`. */
	readonly kind: 'jsonPath' | 'name';
	/** The property values the field selects in a request; [] when it is missing. */
	select(request: RequestData): PropertyValue[];
	/**
	 * The selected values as they are (objects and arrays kept), for timeline event data:
	 * each JsonPath match, or the one value of a name. [] when missing.
	 */
	selectRaw(request: RequestData): unknown[];
}

/**
 * Compiles a mapping field once. Throws `ConfigurationError` when it is empty or an invalid
 * JsonPath; `target` names the setting in the error (for example `mappings[2].field`).
 */
export function compileFieldSelector(field: string, target = 'field'): CompiledFieldSelector {
	const trimmed = typeof field === 'string' ? field.trim() : '';
	if (trimmed === '') throw new ConfigurationError([{ target, message: 'must not be empty' }]);

	if (trimmed.startsWith('$')) {
		const path = compileJsonPath(trimmed, target);
		const selectRaw = (request: RequestData): unknown[] => path.evaluate(request.data);
		return {
			field: trimmed,
			kind: 'jsonPath',
			selectRaw,
			select: (request) => toPropertyValues(selectRaw(request)),
		};
	}

	const selectRaw = (request: RequestData): unknown[] => {
		const value = request.kind === 'json' ? ownValue(request.data, trimmed) : ownValue(request.form, trimmed);
		return value === undefined ? [] : [value];
	};
	return {
		field: trimmed,
		kind: 'name',
		selectRaw,
		select: (request) => toPropertyValues(selectRaw(request)),
	};
}

function ownValue(container: unknown, name: string): unknown {
	if (container === null || typeof container !== 'object' || Array.isArray(container)) return undefined;
	return Object.hasOwn(container, name) ? (container as Record<string, unknown>)[name] : undefined;
}

/**
 * Turns selected values into property values: arrays flattened (at any depth), null, undefined,
 * '' and non-finite numbers dropped, objects as JSON text, strings, numbers and booleans kept.
 */
export function toPropertyValues(values: readonly unknown[]): PropertyValue[] {
	const out: PropertyValue[] = [];
	const visit = (value: unknown): void => {
		if (value === null || value === undefined || value === '') return;
		if (Array.isArray(value)) {
			for (const item of value) visit(item);
			return;
		}
		switch (typeof value) {
			case 'string':
			case 'boolean':
				out.push(value);
				return;
			case 'number':
				if (Number.isFinite(value)) out.push(value);
				return;
			case 'bigint':
				out.push(value.toString());
				return;
			case 'object':
				out.push(JSON.stringify(value));
				return;
			default:
				// Functions and symbols cannot come from a request.
				return;
		}
	};
	for (const value of values) visit(value);
	return out;
}
