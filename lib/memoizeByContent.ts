import { createHash } from 'node:crypto';

/**
 * `compile`, run once per distinct configuration: results are kept by a digest of the settings'
 * JSON (so secrets in the settings are never held as map keys), least recently used dropped first.
 */
export function memoizeByContent<S, C>(compile: (settings: S) => C, limit: number): (settings: S) => C {
	const compiled = new Map<string, C>();
	return (settings) => {
		const key = createHash('sha256').update(JSON.stringify(settings)).digest('base64url');
		const hit = compiled.get(key);
		if (hit !== undefined) {
			compiled.delete(key);
			compiled.set(key, hit);
			return hit;
		}
		const made = compile(settings);
		if (compiled.size >= limit) compiled.delete(compiled.keys().next().value as string);
		compiled.set(key, made);
		return made;
	};
}
