import { ConfigurationError } from '../errors';
import type { ImportMode } from './types';

export const IMPORT_MODES: readonly ImportMode[] = ['set', 'setIfEmpty', 'add', 'sum'];

// Keys are lower case without separators, so `setIfEmpty`, `SET_IF_EMPTY` and `set-if-empty` all match.
const BY_NAME: Record<string, ImportMode> = {
	set: 'set',
	setifempty: 'setIfEmpty',
	add: 'add',
	sum: 'sum',
	increment: 'sum', // BlueConic's name for sum
};

/**
 * Reads an import mode as workflows and BlueConic write it: `set`, `setIfEmpty`, `add`, `sum`, their
 * upper-case forms `SET`, `SET_IF_EMPTY`, `ADD`, `SUM`, and `INCREMENT` (any case) for `sum`.
 */
export function parseImportMode(text: string): ImportMode {
	const key = String(text).trim().toLowerCase().replace(/[_\s-]/g, '');
	const mode = Object.prototype.hasOwnProperty.call(BY_NAME, key) ? BY_NAME[key] : undefined;
	if (mode === undefined) {
		throw new ConfigurationError([
			{
				target: 'mode',
				message: `unknown import mode ${JSON.stringify(text)}; use set, setIfEmpty, add or sum (INCREMENT is an alias of sum)`,
			},
		]);
	}
	return mode;
}

export function isImportMode(value: unknown): value is ImportMode {
	return typeof value === 'string' && (IMPORT_MODES as readonly string[]).includes(value);
}
