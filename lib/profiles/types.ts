/** The profile model (DESIGN.md 2.1). Every property is multi-valued, as in BlueConic. */

export type PropertyValue = string | number | boolean;

/** Property id -> its values, in order. */
export type ProfileProperties = Record<string, PropertyValue[]>;

export interface TimelineEvent {
	id: string;
	eventType: string;
	/** ISO 8601 */
	date: string;
	data: Record<string, unknown>;
}

export interface Profile {
	id: string;
	domainGroup: string;
	legislation: string;
	createdAt: string;
	updatedAt: string;
	properties: ProfileProperties;
	/** Newest last; at most 250 kept. Absent when a caller did not ask for it. */
	timeline?: TimelineEvent[];
}

export const DEFAULT_DOMAIN_GROUP = 'DEFAULT';
export const DEFAULT_LEGISLATION = 'NONE';
export const MAX_TIMELINE_EVENTS = 250;

/** Consent and segment membership live in ordinary properties. */
export const CONSENTED_OBJECTIVES = 'consented_objectives';
export const REFUSED_OBJECTIVES = 'refused_objectives';
export const SEGMENTS = 'segments';

/** The segment every profile is in; it always exists and is never stored in `segments`. */
export const ALL_VISITORS = 'All Visitors';

export type ImportMode = 'set' | 'setIfEmpty' | 'add' | 'sum';

/** One property import: the values a request brings for one property, and how to apply them. */
export interface PropertyImport {
	property: string;
	mode: ImportMode;
	values: PropertyValue[];
}

/** What an import did to one property. */
export interface PropertyChange {
	mode: ImportMode;
	before: PropertyValue[];
	after: PropertyValue[];
}

export type ProfileChanges = Record<string, PropertyChange>;

/** A timeline event to write; without `id` one is generated, without `date` the current date. */
export interface TimelineEventInput {
	id?: string;
	eventType: string;
	date?: string;
	data?: Record<string, unknown>;
}
