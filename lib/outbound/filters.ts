/**
 * Which profiles the Profile Webhook sends for (DESIGN.md 2.3): consent, segments and the trigger.
 * Pure decisions: nothing here reads or writes the store.
 */
import { ConfigurationError } from '../errors';
import { cleanList } from '../lists';
import { sameValues } from '../profiles/propertyValues';
import type { Profile, ProfileChanges, ProfileProperties, PropertyValue, TimelineEvent } from '../profiles/types';
import { ALL_VISITORS, DEFAULT_LEGISLATION, SEGMENTS } from '../profiles/types';
import { consentDecision } from '../profiles/consent';

export type SkipCode = 'NO_CONSENT' | 'NOT_IN_SEGMENT' | 'NO_CHANGE' | 'NO_EVENT';

/** Send, or skip with a stable code and a sentence for the `Skipped` output. */
export type Decision = { send: true } | { send: false; code: SkipCode; reason: string };

export type TriggerOn = 'propertyChange' | 'event' | 'always';

export const TRIGGER_ON: readonly TriggerOn[] = ['propertyChange', 'event', 'always'];

export interface FilterConfig {
	/** Segment ids or names; the profile must be in at least one. Empty: all visitors. */
	segments?: readonly string[];
	/** Consent objectives (see `checkConsent`). Empty: no consent check. */
	objectives?: readonly string[];
	triggerOn: TriggerOn;
	/** For `propertyChange`. Empty: any property. */
	triggerProperties?: readonly string[];
	/** For `event`. Empty: any event type. */
	triggerEvents?: readonly string[];
}

/** What one item brings besides the profile. */
export interface FilterInput {
	/** What this node last sent for this profile (`snapshotFor`), or undefined when it never did. */
	lastSent?: ProfileProperties;
	/** The `changes` of a trigger output item. When given, they decide instead of `lastSent`. */
	changes?: ProfileChanges;
	/** The timeline events the item carries (a trigger output's `timelineEvents`). */
	events?: ReadonlyArray<Pick<TimelineEvent, 'eventType'>>;
}

export type FilterProfile = Pick<Profile, 'legislation' | 'properties'>;

const SEND: Decision = { send: true };

function skip(code: SkipCode, reason: string): Decision {
	return { send: false, code, reason };
}


function quoteList(list: readonly string[]): string {
	return list.map((entry) => `"${entry}"`).join(', ');
}

function textValues(profile: FilterProfile, property: string): Set<string> {
	return new Set((profile.properties[property] ?? []).map((value) => String(value)));
}

/**
 * At least one of the selected segments (by id or name, exact and case-sensitive) is among the
 * values of the profile's `segments` property. No segment selected: every profile passes.
 */
export function checkSegments(profile: FilterProfile, segments: readonly string[]): Decision {
	const selected = cleanList(segments);
	if (selected.length === 0 || selected.includes(ALL_VISITORS)) return SEND;
	const memberOf = textValues(profile, SEGMENTS);
	if (selected.some((segment) => memberOf.has(segment))) return SEND;
	return skip('NOT_IN_SEGMENT', `The profile is in none of the selected segments (${quoteList(selected)}).`);
}

/**
 * Consent: the one rule of lib/profiles/consent.ts (the trigger judges with the same function).
 * No objective selected: every profile passes.
 */
export function checkConsent(profile: FilterProfile, objectives: readonly string[]): Decision {
	const decision = consentDecision(
		{ legislation: profile.legislation ?? DEFAULT_LEGISLATION, properties: profile.properties },
		cleanList(objectives),
	);
	return decision.allowed ? SEND : skip('NO_CONSENT', decision.reason);
}

/** A missing property equals one with no values. */
function sameStoredValues(a: readonly PropertyValue[] | undefined, b: readonly PropertyValue[] | undefined): boolean {
	return sameValues(a ?? [], b ?? []);
}

/**
 * Whether the trigger properties changed. With `changes` (a trigger output item), a property
 * changed when its `before` and `after` differ. Otherwise the profile is compared with what this
 * node last sent; never sent counts as changed when the profile has a value for a trigger property.
 * No trigger property selected: any property.
 */
export function checkPropertyChange(
	profile: FilterProfile,
	triggerProperties: readonly string[],
	input: Pick<FilterInput, 'lastSent' | 'changes'> = {},
): Decision {
	const selected = cleanList(triggerProperties);
	const which = selected.length ? `the trigger properties (${quoteList(selected)})` : 'the properties';
	if (input.changes) {
		const changes = input.changes;
		const candidates = selected.length ? selected : Object.keys(changes);
		const changed = candidates.some(
			(property) => Object.hasOwn(changes, property) && !sameStoredValues(changes[property].before, changes[property].after),
		);
		return changed ? SEND : skip('NO_CHANGE', `None of ${which} changed in this item.`);
	}
	const lastSent = input.lastSent;
	if (!lastSent) {
		const candidates = selected.length ? selected : Object.keys(profile.properties);
		const hasValue = candidates.some((property) => (profile.properties[property] ?? []).length > 0);
		return hasValue ? SEND : skip('NO_CHANGE', `The profile has no value for any of ${which}.`);
	}
	const candidates = selected.length ? selected : [...new Set([...Object.keys(profile.properties), ...Object.keys(lastSent)])];
	const changed = candidates.some((property) => !sameStoredValues(profile.properties[property], lastSent[property]));
	return changed ? SEND : skip('NO_CHANGE', `None of ${which} changed since this node last sent for this profile.`);
}

/** The item carries a timeline event of one of the selected types (any type when none is selected). */
export function checkEvent(
	events: ReadonlyArray<Pick<TimelineEvent, 'eventType'>> | undefined,
	triggerEvents: readonly string[],
): Decision {
	const selected = cleanList(triggerEvents);
	const list = events ?? [];
	const found = selected.length ? list.some((event) => selected.includes(event.eventType)) : list.length > 0;
	if (found) return SEND;
	return skip(
		'NO_EVENT',
		selected.length
			? `The item carries no new timeline event of the types ${quoteList(selected)}.`
			: 'The item carries no new timeline event.',
	);
}

/**
 * What to store as "last sent" for this profile after a 2xx answer: copies of the trigger
 * properties' values (of every property when none is selected).
 */
export function snapshotFor(profile: Pick<Profile, 'properties'>, triggerProperties: readonly string[]): ProfileProperties {
	const selected = cleanList(triggerProperties);
	const keys = selected.length ? selected : Object.keys(profile.properties);
	const snapshot = Object.create(null) as ProfileProperties;
	for (const property of keys) {
		if (Object.hasOwn(profile.properties, property)) snapshot[property] = [...profile.properties[property]];
	}
	return snapshot;
}

export interface ProfileFilter {
	readonly config: Readonly<Required<FilterConfig>>;
	/** Consent first, then segments, then the trigger; the first reason to skip wins. */
	decide(profile: FilterProfile, input?: FilterInput): Decision;
	/** `snapshotFor` with this configuration's trigger properties. */
	snapshot(profile: Pick<Profile, 'properties'>): ProfileProperties;
}

/** Checks and normalizes a filter configuration once; `decide` is then cheap per profile. */
export function compileFilters(config: FilterConfig): ProfileFilter {
	if (!TRIGGER_ON.includes(config.triggerOn)) {
		throw new ConfigurationError([
			{ target: 'triggerOn', message: `must be one of ${TRIGGER_ON.join(', ')}, not "${String(config.triggerOn)}"` },
		]);
	}
	const normalized: Required<FilterConfig> = {
		segments: cleanList(config.segments),
		objectives: cleanList(config.objectives),
		triggerOn: config.triggerOn,
		triggerProperties: cleanList(config.triggerProperties),
		triggerEvents: cleanList(config.triggerEvents),
	};
	return {
		config: normalized,
		decide(profile, input = {}) {
			const consent = checkConsent(profile, normalized.objectives);
			if (!consent.send) return consent;
			const segments = checkSegments(profile, normalized.segments);
			if (!segments.send) return segments;
			switch (normalized.triggerOn) {
				case 'propertyChange':
					return checkPropertyChange(profile, normalized.triggerProperties, input);
				case 'event':
					return checkEvent(input.events, normalized.triggerEvents);
				default:
					return SEND;
			}
		},
		snapshot(profile) {
			return snapshotFor(profile, normalized.triggerProperties);
		},
	};
}
