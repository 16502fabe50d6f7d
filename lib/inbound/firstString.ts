/** The first non-empty string of a header or query value (trimmed), or undefined. */
export function firstString(value: unknown): string | undefined {
	const candidates = Array.isArray(value) ? value : [value];
	for (const candidate of candidates) {
		if (typeof candidate === 'string' && candidate.trim() !== '') return candidate.trim();
	}
	return undefined;
}
