/**
 * The ProfileStore contract (DESIGN.md 2.1): what every backend (embedded SQLite, PostgreSQL) does
 * and guarantees. The shared test suite in test/lib/store/contract.ts holds each backend to it.
 *
 * Guarantees:
 * - Every write of one profile is one atomic transaction: no lost update under concurrency, across
 *   processes; a change set that fails validation writes nothing (not even a profile creation).
 * - A write is durable when its promise resolves.
 * - Identifier lookups are indexed on (domainGroup, property, value) for every property value;
 *   values are compared by string form (3 matches "3"). Several matches: the earliest created
 *   profile wins and `ambiguous` says so.
 * - A timeline keeps at most MAX_TIMELINE_EVENTS events, dropping the oldest (by date, then by the
 *   order written); an event whose id is known replaces the stored one.
 */
import type {
	Profile,
	ProfileChanges,
	ProfileProperties,
	PropertyImport,
	PropertyValue,
	TimelineEvent,
	TimelineEventInput,
} from '../profiles/types';

/**
 * CREATED: a new profile was made. MODIFIED: a property, the legislation or the timeline changed.
 * UNCHANGED: found, nothing changed. NOTFOUND: no profile and none created. REFUSED: the
 * precondition said no; nothing was written.
 */
export type ApplyState = 'CREATED' | 'MODIFIED' | 'UNCHANGED' | 'NOTFOUND' | 'REFUSED';

export interface ProfileIdentifier {
	property: string;
	value: PropertyValue;
}

/**
 * Decides inside the transaction, on the profile as found (or as it would be created), whether the
 * write may go ahead: a returned string refuses it and is the reason. Synchronous on purpose: the
 * transaction holds the write lock while it runs.
 */
export type ApplyPrecondition = (profile: Profile) => string | undefined;

export interface ApplyOptions {
	/** Sets the profile's legislation (for example GDPR). */
	legislation?: string;
	precondition?: ApplyPrecondition;
	/** Return the profile with its timeline (costs a read of up to 250 events). */
	timeline?: boolean;
}

export interface ApplyRequest extends ApplyOptions {
	/** Default DEFAULT. */
	domainGroup?: string;
	identifier: ProfileIdentifier;
	/** Create the profile when none matches (identifier property set to the value). */
	create?: boolean;
	imports?: PropertyImport[];
	events?: TimelineEventInput[];
}

export interface ApplyResult {
	state: ApplyState;
	/** Why, for REFUSED. */
	reason?: string;
	/** The profile after the write; absent for NOTFOUND and for a refused creation. */
	profile?: Profile;
	/** Property -> { mode, before, after }, only for properties that changed. */
	changes: ProfileChanges;
	/** The timeline events written (an identical re-sent event is not written again). */
	events: TimelineEvent[];
	/** Several profiles matched the identifier; the earliest created was used. */
	ambiguous: boolean;
}

export interface IdentifierMatch {
	profile?: Profile;
	ambiguous: boolean;
}

export interface CreateProfileInput {
	/** A UUID is generated when absent; an id already in use is a validation error. */
	id?: string;
	domainGroup?: string;
	legislation?: string;
	properties?: ProfileProperties;
	events?: TimelineEventInput[];
}

export interface GetProfileOptions {
	timeline?: boolean;
}

export interface ProfileStore {
	/**
	 * The core operation, one atomic transaction: find the profile by identifier (or create it when
	 * asked), check the precondition, apply the imports, events and legislation.
	 * Throws ValidationError (nothing written) when the change set breaks a rule.
	 */
	applyByIdentifier(request: ApplyRequest): Promise<ApplyResult>;

	/** The same by profile id (for example after an outgoing request's response mapping). */
	applyToProfile(
		profileId: string,
		imports: PropertyImport[],
		events?: TimelineEventInput[],
		options?: ApplyOptions,
	): Promise<ApplyResult>;

	findByIdentifier(domainGroup: string, property: string, value: PropertyValue): Promise<IdentifierMatch>;

	get(profileId: string, options?: GetProfileOptions): Promise<Profile | undefined>;

	/** Returns the new profile with its timeline. */
	create(input?: CreateProfileInput): Promise<Profile>;

	/**
	 * The right to be forgotten: removes the profile, its identifier index entries, its timeline and
	 * the sent snapshots kept for it. Returns whether the profile existed.
	 */
	erase(profileId: string): Promise<boolean>;

	/** Profiles holding `value` in `property`, earliest created first. */
	searchByProperty(
		domainGroup: string,
		property: string,
		value: PropertyValue,
		limit?: number,
	): Promise<Profile[]>;

	/** What the outgoing node (goal) last sent for a profile, for its change triggers. */
	getSentSnapshot(goalId: string, profileId: string): Promise<ProfileProperties | undefined>;
	setSentSnapshot(goalId: string, profileId: string, properties: ProfileProperties): Promise<void>;

	/** Releases the store; calling it again does nothing. */
	close(): Promise<void>;
}
