/**
 * The limits every write obeys (DESIGN 2.1): each an error with nothing written. One home, so the
 * trigger, the Profiles node and the Profile Webhook's response mapping refuse the same things.
 */
import { ProfileWebhookError, type ValidationIssue } from '../errors';
import type { ProfileProperties } from './types';

export interface ProfileLimits {
	/** Values one property may hold. */
	maxValuesPerProperty: number;
	/** Bytes of a profile's properties as JSON (UTF-8). */
	maxProfileBytes: number;
	/** Nesting depth of request data (objects and arrays). */
	maxDepth: number;
}

export const DEFAULT_LIMITS: Readonly<ProfileLimits> = Object.freeze({
	maxValuesPerProperty: 1_000,
	maxProfileBytes: 1_048_576,
	maxDepth: 64,
});

export function resolveLimits(overrides: Partial<ProfileLimits> = {}): ProfileLimits {
	const limits = { ...DEFAULT_LIMITS };
	for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof ProfileLimits>) {
		const value = overrides[key];
		if (typeof value === 'number' && Number.isInteger(value) && value > 0) limits[key] = value;
	}
	return limits;
}

/** Issues for properties holding more values than allowed (only the ones a change set touched). */
export function valueCountIssues(
	properties: Readonly<ProfileProperties>,
	touched: Iterable<string>,
	limits: ProfileLimits,
): ValidationIssue[] {
	const issues: ValidationIssue[] = [];
	for (const property of touched) {
		const count = Object.hasOwn(properties, property) ? properties[property].length : 0;
		if (count > limits.maxValuesPerProperty) {
			issues.push({
				target: property,
				message: `would hold ${count} values, more than the limit of ${limits.maxValuesPerProperty} values per property`,
			});
		}
	}
	return issues;
}

/** The profile's size as stored, or an issue when it is over the limit. */
export function profileSizeIssue(serialized: string, limits: ProfileLimits): ValidationIssue | undefined {
	// Characters are at most 3 bytes in UTF-8 for what JSON.stringify emits; count exactly only near the limit.
	if (serialized.length * 3 <= limits.maxProfileBytes) return undefined;
	const bytes = Buffer.byteLength(serialized, 'utf8');
	if (bytes <= limits.maxProfileBytes) return undefined;
	return {
		target: 'profile',
		message: `would be ${bytes} bytes of JSON, more than the limit of ${limits.maxProfileBytes} bytes`,
	};
}

/**
 * Refuses data nested deeper than the limit with a 400, before anything recursive reads it (a
 * 10,000-deep value would otherwise overflow the call stack). Iterative on purpose.
 */
export function assertDepth(value: unknown, limits: Pick<ProfileLimits, 'maxDepth'>, what = 'The request body'): void {
	if (typeof value !== 'object' || value === null) return;
	const stack: Array<[unknown, number]> = [[value, 1]];
	while (stack.length) {
		const [current, depth] = stack.pop() as [unknown, number];
		if (depth > limits.maxDepth) {
			throw new ProfileWebhookError(
				400,
				'BAD_REQUEST',
				`${what} is nested more than ${limits.maxDepth} levels deep`,
			);
		}
		const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>);
		for (const child of children) {
			if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
		}
	}
}
