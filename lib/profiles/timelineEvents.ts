/** Turning incoming timeline events into stored ones: ids, dates and data made definite. */
import { randomUUID } from 'node:crypto';

import { ValidationError, type ValidationIssue } from '../errors';
import { deepEqual } from './deepEqual';
import type { TimelineEvent, TimelineEventInput } from './types';

/**
 * Gives every event an id (a new UUID when it has none) and an ISO 8601 date (`now` when it has
 * none; any date `Date` can read is normalised to UTC ISO so the timeline sorts by string). The data
 * is copied through JSON, as it will be stored. Two events with the same id: the later one wins.
 * Every problem is listed in one ValidationError.
 */
export function normalizeTimelineEvents(
	inputs: readonly TimelineEventInput[],
	now: string = new Date().toISOString(),
	newId: () => string = randomUUID,
): TimelineEvent[] {
	const issues: ValidationIssue[] = [];
	const byId = new Map<string, TimelineEvent>();
	inputs.forEach((input, index) => {
		const target = `timelineEvents[${index}]`;
		const problems: string[] = [];
		if (typeof input?.eventType !== 'string' || input.eventType.trim() === '') {
			problems.push('the event type is missing');
		}
		if (input?.id !== undefined && (typeof input.id !== 'string' || input.id === '')) {
			problems.push('the id must be a non-empty string');
		}
		let date = now;
		if (input?.date !== undefined && input.date !== '') {
			const parsed = typeof input.date === 'string' ? Date.parse(input.date) : Number.NaN;
			if (Number.isNaN(parsed)) problems.push(`the date ${JSON.stringify(input.date)} is not a date`);
			else date = new Date(parsed).toISOString();
		}
		let data: Record<string, unknown> = {};
		if (input?.data !== undefined) {
			if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data)) {
				problems.push('the data must be an object');
			} else {
				try {
					data = JSON.parse(JSON.stringify(input.data)) as Record<string, unknown>;
				} catch {
					problems.push('the data cannot be stored as JSON');
				}
			}
		}
		if (problems.length) {
			issues.push(...problems.map((message) => ({ target, message })));
			return;
		}
		const id = input.id ?? newId();
		byId.delete(id); // re-inserted below, so the later event also takes the later place
		byId.set(id, { id, eventType: input.eventType, date, data });
	});
	if (issues.length) throw new ValidationError(issues);
	return [...byId.values()];
}

/** Event dates as senders write them: ISO 8601 strings, or Unix time in seconds or milliseconds. */
export function parseEventDate(value: string | number | boolean): string | undefined {
	const numeric = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(String(value)) ? Number(value) : NaN;
	const date = Number.isFinite(numeric)
		? new Date(numeric < 1e11 ? numeric * 1000 : numeric)
		: new Date(String(value));
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** True when writing `b` over `a` would change nothing. */
export function sameTimelineEvent(a: TimelineEvent, b: TimelineEvent): boolean {
	return a.id === b.id && a.eventType === b.eventType && a.date === b.date && deepEqual(a.data, b.data);
}

