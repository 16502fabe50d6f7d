/** Lists as node parameters give them: one rule for every comma-separated setting. */

/** Trimmed, without empty entries and duplicates, order kept. */
export function cleanList(list: readonly unknown[] | undefined): string[] {
	return [...new Set((list ?? []).map((entry) => String(entry).trim()).filter(Boolean))];
}

/** A comma- (or line-) separated setting as a clean list; a list is cleaned as it is. */
export function splitList(value: unknown): string[] {
	if (Array.isArray(value)) return cleanList(value);
	return cleanList(String(value ?? '').split(/[,\n]/));
}
