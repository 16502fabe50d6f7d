/**
 * The ProfileStore port (DESIGN.md 1 and 2.1): transactional primitives only. The profile engine
 * (lib/profiles/engine.ts) decides every rule (import modes, consent, legislation, limits, segments)
 * and calls these primitives inside one transaction; an adapter knows SQL, not business rules.
 *
 * Adapters: sqlite/ (node:sqlite, the embedded default) and postgres/ (pg). Both pass the same
 * contract suite (test/lib/store/contract.ts) through the engine.
 *
 * What an adapter guarantees:
 * - `write(work)` runs `work` in one transaction that commits when `work` resolves and rolls back
 *   when it throws. Writes are serialised as the data needs it: a profile read in a write
 *   transaction (by id or by identifier) is locked until commit (SQLite: the database write lock;
 *   PostgreSQL: `SELECT ... FOR UPDATE`), and `lockIdentifier` makes concurrent "find or create" of
 *   one identifier create one profile. The work may be run again from the start when the store
 *   asks for a retry (busy, serialisation failure): it must have no effects outside `tx`.
 * - The commit is durable before `write` resolves.
 * - Change feed entries are visible to readers in `seq` order: a reader that has seen `seq` n never
 *   later sees a new entry below n (PostgreSQL: appends are serialised by a transaction lock taken
 *   just before the insert).
 * - An unreachable or locked-out database is a StoreUnavailableError (503), nothing written.
 */
import type { Profile, ProfileProperties, TimelineEvent } from '../profiles/types';

/** A stored profile with the adapter's own row key (never shown to users). */
export interface StoredProfile {
	/** The adapter's internal key (SQLite rowid, PostgreSQL bigint as a number). */
	key: number;
	/** Without timeline. */
	profile: Profile;
	/** How many timeline events the profile holds (kept by the adapter; the cap is checked on it). */
	eventCount: number;
}

/** One committed change set, as the change feed keeps it (DESIGN 2.1). */
export interface ChangeFeedInput {
	profileId: string;
	domainGroup: string;
	/** CREATED or MODIFIED (ERASED entries are not kept: erasure removes a profile's entries). */
	state: 'CREATED' | 'MODIFIED';
	/** Who wrote it: `trigger`, `profiles`, `profileWebhook`, `segment`, ... with an optional `:detail`. */
	source: string;
	/** property -> { mode, before, after }, only properties that changed. */
	changes: Record<string, { mode: string; before: unknown[]; after: unknown[] }>;
	/** Timeline events written by this change set. */
	events: TimelineEvent[];
	segmentsEntered: string[];
	segmentsLeft: string[];
	/** Legislation before and after, when it changed. */
	legislation?: { before: string; after: string };
	/** ISO 8601. */
	committedAt: string;
}

export interface ChangeFeedEntry extends ChangeFeedInput {
	/** Increasing; the order changes committed in. */
	seq: number;
}

/** A segment definition as stored. `conditions` is the engine's JSON (lib/profiles/conditions.ts). */
export interface StoredSegment {
	name: string;
	description: string;
	conditions: unknown;
	/** ISO 8601; changes whenever the definition does (the engine caches compiled conditions by it). */
	updatedAt: string;
}

export interface IdempotencyRecord {
	/** The answer given the first time (JSON). */
	answer: unknown;
	/** ISO 8601: after it, the key is forgotten. */
	expiresAt: string;
}

export interface SnapshotEntry {
	/** The profile id, or for items not in the store a key derived from their identifier. */
	key: string;
	properties: ProfileProperties;
}

export interface StoreTransaction {
	// --- profiles ---------------------------------------------------------------------------
	profileById(id: string): Promise<StoredProfile | undefined>;
	/**
	 * Profiles whose indexed `property` holds `valueKey` (lib/profiles/identifiers.ts valueKey), in
	 * `domainGroup`, earliest created first (created_at, then key), at most `limit`.
	 */
	profilesByIdentifier(domainGroup: string, property: string, valueKey: string, limit: number): Promise<StoredProfile[]>;
	/**
	 * Serialises "find or create" of one identifier across processes until commit. SQLite: nothing
	 * to do (BEGIN IMMEDIATE holds the only write lock).
	 */
	lockIdentifier(domainGroup: string, property: string, valueKey: string): Promise<void>;
	insertProfile(profile: Profile): Promise<StoredProfile>;
	/** Writes legislation, updatedAt and properties of a profile read in this transaction. */
	updateProfile(stored: StoredProfile, profile: Profile): Promise<void>;
	/**
	 * Removes the profile and everything about it: identifier entries, timeline, sent snapshots
	 * (keyed by its id), change feed entries, idempotency keys are left (they hold no profile data).
	 */
	deleteProfile(stored: StoredProfile): Promise<void>;
	/**
	 * Profiles in creation order after `afterKey` (0: from the start), at most `limit`: the paged
	 * scan behind search, export-all and segment re-evaluation. Memory stays one page.
	 */
	scanProfiles(afterKey: number, limit: number, domainGroup?: string): Promise<StoredProfile[]>;
	countProfiles(): Promise<number>;

	// --- identifier index (only the properties in use are indexed) --------------------------
	/** The indexed properties, read in this transaction (another process may have added one). */
	indexedProperties(): Promise<ReadonlySet<string>>;
	/**
	 * Starts indexing `property`: records it and fills the index from every stored profile (the
	 * engine passes the keys of each profile's values). Returns false when it was indexed already.
	 */
	addIndexedProperty(property: string, keysOf: (profile: Profile) => string[]): Promise<boolean>;
	/** Adds and removes index entries of one profile's property. */
	updateIdentifierKeys(stored: StoredProfile, property: string, add: readonly string[], remove: readonly string[]): Promise<void>;

	// --- timeline ---------------------------------------------------------------------------
	eventsByIds(stored: StoredProfile, ids: readonly string[]): Promise<TimelineEvent[]>;
	/** Inserts or replaces events by id; returns the new event count of the profile. */
	upsertEvents(stored: StoredProfile, events: readonly TimelineEvent[]): Promise<number>;
	/**
	 * Drops the oldest events (by date, then order written) beyond `max`; returns the dropped ids.
	 * The engine calls it only when the count exceeds the cap.
	 */
	trimTimeline(stored: StoredProfile, max: number): Promise<string[]>;
	timeline(stored: StoredProfile): Promise<TimelineEvent[]>;

	// --- change feed ------------------------------------------------------------------------
	appendChange(entry: ChangeFeedInput): Promise<number>;
	/** Entries with seq > afterSeq, in order, at most `limit`. */
	readChanges(afterSeq: number, limit: number): Promise<ChangeFeedEntry[]>;
	/** The highest seq written (0 when none). */
	lastChangeSeq(): Promise<number>;
	changesOfProfile(profileId: string): Promise<ChangeFeedEntry[]>;
	/** Where a change feed consumer (a Profile Change Trigger) has read up to. */
	getCursor(consumerId: string): Promise<number | undefined>;
	setCursor(consumerId: string, seq: number): Promise<void>;

	// --- sent snapshots (Profile Webhook "last sent") ----------------------------------------
	getSnapshot(goalId: string, key: string): Promise<ProfileProperties | undefined>;
	putSnapshots(goalId: string, entries: readonly SnapshotEntry[]): Promise<void>;
	snapshotsOfKey(key: string): Promise<Array<{ goalId: string; properties: ProfileProperties; updatedAt: string }>>;

	// --- idempotency ------------------------------------------------------------------------
	/** The record for (scope, key) unless it expired before `now` (ISO 8601). */
	getIdempotency(scope: string, key: string, now: string): Promise<IdempotencyRecord | undefined>;
	putIdempotency(scope: string, key: string, record: IdempotencyRecord): Promise<void>;
	/** Forgets expired keys (a bounded number per call, so a write never stalls on clean-up). */
	purgeIdempotency(now: string, limit: number): Promise<void>;

	// --- segment definitions ----------------------------------------------------------------
	segments(): Promise<StoredSegment[]>;
	putSegment(segment: StoredSegment): Promise<void>;
	deleteSegment(name: string): Promise<boolean>;

	/**
	 * Runs `work` so that, when it throws, only what it wrote is undone and the transaction goes on
	 * (SAVEPOINT / ROLLBACK TO): one failing record of a batch is rolled back alone.
	 */
	savepoint<T>(work: () => Promise<T>): Promise<T>;
}

export interface ProfileStore {
	/** `sqlite` or `postgres`: for messages and figures. */
	readonly kind: string;
	/** A write transaction (see the guarantees above). */
	write<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
	/** A read-only transaction: one consistent snapshot. */
	read<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
	/**
	 * After an erasure: make the erased bytes unrecoverable from the database files where the
	 * backend can (SQLite: checkpoint and truncate the WAL; secure_delete is on). Best effort.
	 */
	scrub(): Promise<void>;
	/** Releases the store; calling it again does nothing. */
	close(): Promise<void>;
}
