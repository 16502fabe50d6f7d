/**
 * Which change feed entries start a Profile Change Trigger's workflow (DESIGN 2.4): compiled once
 * from the node's settings, then a cheap predicate per entry.
 *
 * An entry matches when it is in one of the selected domain groups (any, when none is selected),
 * was not written by an ignored source, and matches at least one of the selected kinds of change:
 * - `propertyChange`: one of the listed properties (any property when none is listed) has `before`
 *   and `after` values that differ;
 * - `event`: it wrote a timeline event of one of the listed types (any type when none is listed);
 * - `segmentEntered` / `segmentLeft`: the profile entered / left one of the listed segments (any).
 */
import { ConfigurationError, type ValidationIssue } from '../errors';
import { cleanList, splitList } from '../lists';
import { sameValues } from '../profiles/propertyValues';
import type { ProfileChanges } from '../profiles/types';
import type { ChangeFeedEntry } from '../store/ProfileStore';

export type ChangeKind = 'propertyChange' | 'event' | 'segmentEntered' | 'segmentLeft';

export const CHANGE_KINDS: readonly ChangeKind[] = ['propertyChange', 'event', 'segmentEntered', 'segmentLeft'];

export interface ChangeFilterSettings {
	/** At least one kind; the entry must match one of them. */
	triggerOn: readonly ChangeKind[];
	/** For propertyChange; empty: any property. */
	properties?: readonly string[];
	/** For event; empty: any event type. */
	eventTypes?: readonly string[];
	/** For segmentEntered; empty: any segment. */
	segmentsEntered?: readonly string[];
	/** For segmentLeft; empty: any segment. */
	segmentsLeft?: readonly string[];
	/** Empty: every domain group. */
	domainGroups?: readonly string[];
	/**
	 * Changes whose source starts with one of these are ignored (`profileWebhook` ignores what a
	 * Profile Webhook's response mapping wrote back, so a goal cannot start itself again).
	 */
	ignoreSources?: readonly string[];
}

export type ChangeFilter = (entry: ChangeFeedEntry) => boolean;

export { cleanList, splitList };

export function compileChangeFilter(settings: ChangeFilterSettings): ChangeFilter {
	const issues: ValidationIssue[] = [];
	const kinds = cleanList(settings.triggerOn) as ChangeKind[];
	if (!kinds.length) {
		issues.push({ target: 'triggerOn', message: `select at least one kind of change (${CHANGE_KINDS.join(', ')})` });
	}
	for (const kind of kinds) {
		if (!CHANGE_KINDS.includes(kind)) {
			issues.push({ target: 'triggerOn', message: `"${kind}" is not one of ${CHANGE_KINDS.join(', ')}` });
		}
	}
	if (issues.length) throw new ConfigurationError(issues);

	const properties = cleanList(settings.properties);
	const eventTypes = new Set(cleanList(settings.eventTypes));
	const entered = new Set(cleanList(settings.segmentsEntered));
	const left = new Set(cleanList(settings.segmentsLeft));
	const domainGroups = new Set(cleanList(settings.domainGroups));
	const ignored = cleanList(settings.ignoreSources);

	const checks: ChangeFilter[] = [];
	if (kinds.includes('propertyChange')) {
		checks.push((entry) => {
			const changes = (entry.changes ?? {}) as ProfileChanges;
			const candidates = properties.length ? properties : Object.keys(changes);
			return candidates.some(
				(property) =>
					Object.hasOwn(changes, property) && !sameValues(changes[property].before ?? [], changes[property].after ?? []),
			);
		});
	}
	if (kinds.includes('event')) {
		checks.push((entry) => (entry.events ?? []).some((event) => !eventTypes.size || eventTypes.has(event.eventType)));
	}
	if (kinds.includes('segmentEntered')) {
		checks.push((entry) => (entry.segmentsEntered ?? []).some((name) => !entered.size || entered.has(name)));
	}
	if (kinds.includes('segmentLeft')) {
		checks.push((entry) => (entry.segmentsLeft ?? []).some((name) => !left.size || left.has(name)));
	}

	return (entry) => {
		if (domainGroups.size && !domainGroups.has(entry.domainGroup)) return false;
		if (ignored.some((prefix) => entry.source === prefix || entry.source.startsWith(`${prefix}:`))) return false;
		return checks.some((check) => check(entry));
	};
}
