/**
 * `responseMappings` (DESIGN.md 2.3): values picked from the answer of the outgoing request with
 * JsonPath and imported into the profile, like the trigger's mappings but read from a response.
 */
import { ConfigurationError } from '../errors';
import type { ValidationIssue } from '../errors';
import { compileJsonPath } from '../mapping/jsonPath';
import type { CompiledJsonPath } from '../mapping/jsonPath';
import { parseImportMode } from '../profiles/importMode';
import { isPropertyValue, isValidPropertyId } from '../profiles/propertyValues';
import type { ImportMode, PropertyImport, PropertyValue } from '../profiles/types';

/** One mapping as the node's parameters hold it. */
export interface ResponseMapping {
	/** A JsonPath into the parsed response body, for example `$.id` or `$.tags[*]`. */
	path: string;
	/** The profile property that receives the values. */
	property: string;
	/** `set`, `setIfEmpty`, `add`, `sum`, or BlueConic's spellings (`SET_IF_EMPTY`, `INCREMENT`). */
	mode: string;
}

export interface CompiledResponseMapping {
	readonly path: CompiledJsonPath;
	readonly property: string;
	readonly mode: ImportMode;
}

export interface CompiledResponseMappings {
	readonly mappings: readonly CompiledResponseMapping[];
	/**
	 * The imports a parsed response body brings, one per mapping that matched, in mapping order.
	 * A mapping whose path matches nothing brings no import (it never clears the property).
	 */
	importsFrom(body: unknown): PropertyImport[];
}

/**
 * The property values one JsonPath match stands for: an array gives its elements, a string,
 * number or boolean itself, an object (or a nested array) its JSON text; null gives nothing.
 */
export function matchValues(match: unknown): PropertyValue[] {
	const items = Array.isArray(match) ? match : [match];
	const values: PropertyValue[] = [];
	for (const item of items) {
		if (item === null || item === undefined) continue;
		if (isPropertyValue(item)) values.push(item);
		else if (typeof item === 'object') values.push(JSON.stringify(item));
	}
	return values;
}

/**
 * Checks every mapping once and lists every problem in one `ConfigurationError` (targets such as
 * `responseMappings[1].path`).
 */
export function compileResponseMappings(mappings: readonly ResponseMapping[] | undefined): CompiledResponseMappings {
	const compiled: CompiledResponseMapping[] = [];
	const issues: ValidationIssue[] = [];
	(mappings ?? []).forEach((mapping, index) => {
		const at = `responseMappings[${index}]`;
		let path: CompiledJsonPath | undefined;
		let mode: ImportMode | undefined;
		try {
			path = compileJsonPath(String(mapping.path ?? '').trim(), `${at}.path`);
		} catch (error) {
			if (!(error instanceof ConfigurationError)) throw error;
			issues.push(...error.issues);
		}
		const property = String(mapping.property ?? '').trim();
		if (!isValidPropertyId(property)) {
			issues.push({ target: `${at}.property`, message: 'name the profile property that receives the values' });
		}
		try {
			mode = parseImportMode(mapping.mode ?? 'set');
		} catch (error) {
			if (!(error instanceof ConfigurationError)) throw error;
			issues.push(...error.issues.map((issue) => ({ ...issue, target: `${at}.mode` })));
		}
		if (path && mode && isValidPropertyId(property)) compiled.push({ path, property, mode });
	});
	if (issues.length) throw new ConfigurationError(issues);

	return {
		mappings: compiled,
		importsFrom(body: unknown): PropertyImport[] {
			const imports: PropertyImport[] = [];
			for (const mapping of compiled) {
				const values = mapping.path.evaluate(body).flatMap(matchValues);
				if (values.length) imports.push({ property: mapping.property, mode: mapping.mode, values });
			}
			return imports;
		},
	};
}
