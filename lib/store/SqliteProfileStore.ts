/**
 * The embedded profile store: one SQLite file through Node's own `node:sqlite`.
 *
 * Concurrency: every write is one `BEGIN IMMEDIATE` transaction, which takes SQLite's single write
 * lock before reading, so processes sharing the file serialize their writes (no lost update). A
 * transaction runs start to finish synchronously, so writes within one process never interleave.
 * Waiting for another process's lock: SQLite's busy_timeout, then a bounded async retry.
 *
 * Durability: WAL with `synchronous = FULL` (the default here). Each commit fsyncs the WAL before
 * the promise resolves, so an acknowledged write survives a killed process (SIGKILL) and also an OS
 * crash or power loss. `NORMAL` would survive SIGKILL too (the WAL is in the OS page cache) but could
 * lose the last commits on power loss; it is offered as an option for throughput.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

import { ValidationError, type ValidationIssue } from '../errors';
import { applyImports } from '../profiles/applyImport';
import { isPropertyValue, isValidPropertyId, valueKey } from '../profiles/propertyValues';
import { normalizeTimelineEvents, sameTimelineEvent } from '../profiles/timelineEvents';
import {
	DEFAULT_DOMAIN_GROUP,
	DEFAULT_LEGISLATION,
	MAX_TIMELINE_EVENTS,
	type Profile,
	type ProfileChanges,
	type ProfileProperties,
	type PropertyImport,
	type PropertyValue,
	type TimelineEvent,
	type TimelineEventInput,
} from '../profiles/types';
import { retryWhileBusy, retryWhileBusySync } from './busyRetry';
import type {
	ApplyOptions,
	ApplyRequest,
	ApplyResult,
	CreateProfileInput,
	GetProfileOptions,
	IdentifierMatch,
	ProfileStore,
} from './ProfileStore';
import { migrateSqlite } from './sqliteMigrations';
import { StoreUnavailableError } from './StoreUnavailableError';

export interface SqliteProfileStoreOptions {
	/** How long one statement waits for another process's write lock (SQLite busy_timeout). */
	busyTimeoutMs?: number;
	/** Bound on retrying a transaction that still found the store busy; then StoreUnavailableError. */
	maxBusyWaitMs?: number;
	/** FULL (default): durable across power loss. NORMAL: across process crashes only. */
	synchronous?: 'FULL' | 'NORMAL';
}

const DEFAULT_BUSY_TIMEOUT_MS = 1_000;
const DEFAULT_MAX_BUSY_WAIT_MS = 10_000;
const DEFAULT_SEARCH_LIMIT = 100;

/** Where the embedded store lives when no credential chooses another: inside n8n's user folder. */
export function defaultStorePath(userFolder: string): string {
	return join(userFolder, 'profile-webhooks', 'profiles.sqlite');
}

/**
 * Opens (creating when needed) the store at `path`; the same as the constructor, as a promise like
 * the other backends' openers.
 */
export async function openSqliteProfileStore(
	path: string,
	options: SqliteProfileStoreOptions = {},
): Promise<SqliteProfileStore> {
	return new SqliteProfileStore(path, options);
}

/**
 * Makes the store's directory and creates its file readable by its owner only (profiles are
 * personal data; SQLite gives the -wal and -shm files the same mode as the main file).
 */
function ensureStoreFile(path: string): void {
	if (path === ':memory:') return;
	try {
		mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
		closeSync(openSync(path, 'a', 0o600));
	} catch (error) {
		throw new StoreUnavailableError(`cannot create the profile store at ${path}: ${(error as Error).message}`, error);
	}
}

interface ProfileRow {
	seq: number;
	id: string;
	domain_group: string;
	legislation: string;
	created_at: string;
	updated_at: string;
	properties: string;
}

interface EventRow {
	id: string;
	event_type: string;
	date: string;
	data: string;
}

const PROFILE_COLUMNS = 'p.seq, p.id, p.domain_group, p.legislation, p.created_at, p.updated_at, p.properties';

export class SqliteProfileStore implements ProfileStore {
	readonly path: string;
	private readonly db: DatabaseSync;
	private readonly statements = new Map<string, StatementSync>();
	private readonly maxBusyWaitMs: number;
	private closed = false;

	/** Opens (creating when needed: directory, file, schema) the store at `path`. */
	constructor(path: string, options: SqliteProfileStoreOptions = {}) {
		this.path = path;
		this.maxBusyWaitMs = options.maxBusyWaitMs ?? DEFAULT_MAX_BUSY_WAIT_MS;
		const busyTimeout = Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
		const synchronous = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
		ensureStoreFile(path);
		try {
			this.db = new DatabaseSync(path);
		} catch (error) {
			throw new StoreUnavailableError(
				`cannot open the profile store at ${path}: ${(error as Error).message}`,
				error,
			);
		}
		try {
			this.db.exec(`PRAGMA busy_timeout = ${busyTimeout}`); // first, so the steps below wait too
			retryWhileBusySync(() => {
				const row = this.db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
				if (row.journal_mode.toLowerCase() !== 'wal' && path !== ':memory:') {
					throw new StoreUnavailableError(
						`the profile store at ${path} cannot use write-ahead logging (journal mode ${row.journal_mode}); put it on a local disk`,
					);
				}
			}, this.maxBusyWaitMs);
			this.db.exec(`PRAGMA synchronous = ${synchronous}`);
			// Erased profiles are overwritten on disk, not merely unlinked (right to be forgotten).
			this.db.exec('PRAGMA secure_delete = ON');
			retryWhileBusySync(() => migrateSqlite(this.db), this.maxBusyWaitMs);
		} catch (error) {
			this.db.close();
			if (error instanceof StoreUnavailableError) throw error;
			throw new StoreUnavailableError(
				`cannot open the profile store at ${path}: ${(error as Error).message}`,
				error,
			);
		}
	}

	async applyByIdentifier(request: ApplyRequest): Promise<ApplyResult> {
		const domainGroup = request.domainGroup ?? DEFAULT_DOMAIN_GROUP;
		const { identifier } = request;
		checkIdentifier(domainGroup, identifier?.property, identifier?.value);
		checkOptionalText('legislation', request.legislation);
		const imports = request.imports ?? [];
		const events = normalizeTimelineEvents(request.events ?? []);
		return this.write(() => {
			const rows = this.findRows(domainGroup, identifier.property, identifier.value, 2);
			if (rows.length) return this.applyToRow(rows[0], rows.length > 1, imports, events, request);
			if (!request.create) return emptyResult('NOTFOUND');
			return this.createAndApply(domainGroup, identifier.property, identifier.value, imports, events, request);
		});
	}

	async applyToProfile(
		profileId: string,
		imports: PropertyImport[],
		events: TimelineEventInput[] = [],
		options: ApplyOptions = {},
	): Promise<ApplyResult> {
		checkText('profileId', profileId);
		checkOptionalText('legislation', options.legislation);
		const normalized = normalizeTimelineEvents(events);
		return this.write(() => {
			const row = this.profileRow(profileId);
			return row ? this.applyToRow(row, false, imports, normalized, options) : emptyResult('NOTFOUND');
		});
	}

	async findByIdentifier(domainGroup: string, property: string, value: PropertyValue): Promise<IdentifierMatch> {
		checkIdentifier(domainGroup, property, value);
		return this.read(() => {
			const rows = this.findRows(domainGroup, property, value, 2);
			return { profile: rows.length ? toProfile(rows[0]) : undefined, ambiguous: rows.length > 1 };
		});
	}

	async get(profileId: string, options: GetProfileOptions = {}): Promise<Profile | undefined> {
		checkText('profileId', profileId);
		return this.read(() => {
			const row = this.profileRow(profileId);
			return row ? this.withTimeline(toProfile(row), row.seq, options.timeline) : undefined;
		});
	}

	async create(input: CreateProfileInput = {}): Promise<Profile> {
		checkOptionalText('id', input.id, 'domainGroup', input.domainGroup, 'legislation', input.legislation);
		const imports: PropertyImport[] = Object.entries(input.properties ?? {}).map(([property, values]) => ({
			property,
			mode: 'set',
			values,
		}));
		const { properties } = applyImports({}, imports); // validates the values
		const events = normalizeTimelineEvents(input.events ?? []);
		return this.write(() => {
			const id = input.id ?? randomUUID();
			if (this.profileRow(id)) {
				throw new ValidationError([{ target: 'id', message: `a profile with id ${id} already exists` }]);
			}
			const now = new Date().toISOString();
			const profile: Profile = {
				id,
				domainGroup: input.domainGroup ?? DEFAULT_DOMAIN_GROUP,
				legislation: input.legislation ?? DEFAULT_LEGISLATION,
				createdAt: now,
				updatedAt: now,
				properties,
			};
			const seq = this.insertProfile(profile);
			this.writeEvents(seq, events);
			return this.withTimeline(profile, seq, true);
		});
	}

	async erase(profileId: string): Promise<boolean> {
		checkText('profileId', profileId);
		const existed = await this.write(() => {
			this.stmt('DELETE FROM sent_snapshots WHERE profile_id = ?').run(profileId);
			const row = this.profileRow(profileId);
			if (!row) return false;
			this.stmt('DELETE FROM identifiers WHERE profile_seq = ?').run(row.seq);
			this.stmt('DELETE FROM timeline_events WHERE profile_seq = ?').run(row.seq);
			this.stmt('DELETE FROM profiles WHERE seq = ?').run(row.seq);
			return true;
		});
		// Copy the erasure into the main file and empty the WAL, so no copy of the erased rows stays in
		// it. Best effort: a reader elsewhere can hold the WAL; the next checkpoints overwrite it.
		try {
			this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
		} catch {
			// busy: see above
		}
		return existed;
	}

	async searchByProperty(
		domainGroup: string,
		property: string,
		value: PropertyValue,
		limit: number = DEFAULT_SEARCH_LIMIT,
	): Promise<Profile[]> {
		checkIdentifier(domainGroup, property, value);
		const bound = Math.max(0, Math.floor(Number.isFinite(limit) ? limit : DEFAULT_SEARCH_LIMIT));
		if (bound === 0) return [];
		return this.read(() => this.findRows(domainGroup, property, value, bound).map(toProfile));
	}

	async getSentSnapshot(goalId: string, profileId: string): Promise<ProfileProperties | undefined> {
		checkText('goalId', goalId, 'profileId', profileId);
		return this.read(() => {
			const row = this.stmt('SELECT properties FROM sent_snapshots WHERE profile_id = ? AND goal_id = ?').get(
				profileId,
				goalId,
			) as { properties: string } | undefined;
			return row ? (JSON.parse(row.properties) as ProfileProperties) : undefined;
		});
	}

	async setSentSnapshot(goalId: string, profileId: string, properties: ProfileProperties): Promise<void> {
		checkText('goalId', goalId, 'profileId', profileId);
		if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
			throw new ValidationError([{ target: 'properties', message: 'must be an object of property values' }]);
		}
		const json = JSON.stringify(properties);
		await this.write(() => {
			this.stmt(
				`INSERT INTO sent_snapshots (profile_id, goal_id, properties, updated_at) VALUES (?, ?, ?, ?)
				 ON CONFLICT (profile_id, goal_id) DO UPDATE SET properties = excluded.properties, updated_at = excluded.updated_at`,
			).run(profileId, goalId, json, new Date().toISOString());
		});
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		this.statements.clear();
		try {
			this.db.exec('PRAGMA optimize');
		} catch {
			// only a hint for the query planner; closing matters more
		}
		this.db.close();
	}

	// --- transactions -------------------------------------------------------------------------

	/** A write transaction, retried from the start while another process holds the lock. */
	private write<T>(operation: () => T): Promise<T> {
		return retryWhileBusy(() => this.transaction('BEGIN IMMEDIATE', operation), this.maxBusyWaitMs);
	}

	/** A read transaction: one consistent snapshot for reads that take several statements. */
	private read<T>(operation: () => T): Promise<T> {
		return retryWhileBusy(() => this.transaction('BEGIN', operation), this.maxBusyWaitMs);
	}

	private transaction<T>(begin: string, operation: () => T): T {
		if (this.closed) throw new StoreUnavailableError('the profile store is closed');
		this.db.exec(begin);
		try {
			const result = operation();
			this.db.exec('COMMIT');
			return result;
		} catch (error) {
			try {
				this.db.exec('ROLLBACK');
			} catch {
				// already ended (a failed COMMIT can end it): nothing left to undo
			}
			throw error;
		}
	}

	private stmt(sql: string): StatementSync {
		let statement = this.statements.get(sql);
		if (!statement) {
			statement = this.db.prepare(sql);
			this.statements.set(sql, statement);
		}
		return statement;
	}

	// --- the core: applying a change set inside a transaction ------------------------------------

	private applyToRow(
		row: ProfileRow,
		ambiguous: boolean,
		imports: readonly PropertyImport[],
		events: readonly TimelineEvent[],
		options: ApplyOptions,
	): ApplyResult {
		const profile = toProfile(row);
		const reason = options.precondition?.(structuredClone(profile));
		if (typeof reason === 'string') {
			return { ...emptyResult('REFUSED'), reason, ambiguous, profile: this.withTimeline(profile, row.seq, options.timeline) };
		}
		const { properties, changes } = applyImports(profile.properties, imports); // throws before any write
		const legislationChanged = options.legislation !== undefined && options.legislation !== profile.legislation;
		const timeline = this.writeEvents(row.seq, events);
		const propertiesChanged = Object.keys(changes).length > 0;
		if (!propertiesChanged && !legislationChanged && !timeline.changed) {
			return { ...emptyResult('UNCHANGED'), ambiguous, profile: this.withTimeline(profile, row.seq, options.timeline) };
		}
		const updated: Profile = {
			...profile,
			legislation: options.legislation ?? profile.legislation,
			updatedAt: new Date().toISOString(),
			properties,
		};
		this.syncIdentifiers(row.seq, updated, changes);
		this.stmt('UPDATE profiles SET legislation = ?, updated_at = ?, properties = ? WHERE seq = ?').run(
			updated.legislation,
			updated.updatedAt,
			JSON.stringify(updated.properties),
			row.seq,
		);
		return {
			state: 'MODIFIED',
			profile: this.withTimeline(updated, row.seq, options.timeline),
			changes,
			events: timeline.written,
			ambiguous,
		};
	}

	private createAndApply(
		domainGroup: string,
		property: string,
		value: PropertyValue,
		imports: readonly PropertyImport[],
		events: readonly TimelineEvent[],
		options: ApplyOptions,
	): ApplyResult {
		const now = new Date().toISOString();
		const candidate: Profile = {
			id: randomUUID(),
			domainGroup,
			legislation: options.legislation ?? DEFAULT_LEGISLATION,
			createdAt: now,
			updatedAt: now,
			properties: { [property]: [value] },
		};
		const reason = options.precondition?.(structuredClone(candidate));
		if (typeof reason === 'string') return { ...emptyResult('REFUSED'), reason };
		// Changes are reported against nothing, so the identifier shows as set too.
		const { properties, changes } = applyImports({}, [{ property, mode: 'set', values: [value] }, ...imports]);
		const profile: Profile = { ...candidate, properties };
		const seq = this.insertProfile(profile);
		const timeline = this.writeEvents(seq, events);
		return {
			state: 'CREATED',
			profile: this.withTimeline(profile, seq, options.timeline),
			changes,
			events: timeline.written,
			ambiguous: false,
		};
	}

	private insertProfile(profile: Profile): number {
		const result = this.stmt(
			`INSERT INTO profiles (id, domain_group, legislation, created_at, updated_at, properties)
			 VALUES (?, ?, ?, ?, ?, ?)`,
		).run(
			profile.id,
			profile.domainGroup,
			profile.legislation,
			profile.createdAt,
			profile.updatedAt,
			JSON.stringify(profile.properties),
		);
		const seq = Number(result.lastInsertRowid);
		const changes: ProfileChanges = {};
		for (const [property, after] of Object.entries(profile.properties)) {
			changes[property] = { mode: 'set', before: [], after };
		}
		this.syncIdentifiers(seq, profile, changes);
		return seq;
	}

	/** Keeps the identifier index equal to the profile's values: only the changed keys are touched. */
	private syncIdentifiers(seq: number, profile: Profile, changes: ProfileChanges): void {
		const remove = this.stmt(
			'DELETE FROM identifiers WHERE domain_group = ? AND property = ? AND value = ? AND created_at = ? AND profile_seq = ?',
		);
		const add = this.stmt(
			'INSERT OR IGNORE INTO identifiers (domain_group, property, value, created_at, profile_seq) VALUES (?, ?, ?, ?, ?)',
		);
		for (const [property, change] of Object.entries(changes)) {
			const before = new Set(change.before.map(valueKey));
			const after = new Set(change.after.map(valueKey));
			for (const key of before) {
				if (!after.has(key)) remove.run(profile.domainGroup, property, key, profile.createdAt, seq);
			}
			for (const key of after) {
				if (!before.has(key)) add.run(profile.domainGroup, property, key, profile.createdAt, seq);
			}
		}
	}

	/**
	 * Upserts events by id (an identical one is skipped), then drops the oldest beyond the cap.
	 * `written` is what was written and kept; `changed` whether the timeline differs from before.
	 */
	private writeEvents(seq: number, events: readonly TimelineEvent[]): { written: TimelineEvent[]; changed: boolean } {
		if (!events.length) return { written: [], changed: false };
		const existing = this.stmt(
			'SELECT id, event_type, date, data FROM timeline_events WHERE profile_seq = ? AND id = ?',
		);
		const upsert = this.stmt(
			`INSERT INTO timeline_events (profile_seq, id, event_type, date, data) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (profile_seq, id) DO UPDATE
			 SET event_type = excluded.event_type, date = excluded.date, data = excluded.data`,
		);
		const written: TimelineEvent[] = [];
		const added = new Set<string>();
		for (const event of events) {
			const row = existing.get(seq, event.id) as EventRow | undefined;
			if (row && sameTimelineEvent(toEvent(row), event)) continue;
			if (!row) added.add(event.id);
			upsert.run(seq, event.id, event.eventType, event.date, JSON.stringify(event.data));
			written.push(event);
		}
		if (!written.length) return { written, changed: false };
		const dropped = new Set(
			(
				this.stmt(
					`DELETE FROM timeline_events WHERE seq IN (
						SELECT seq FROM timeline_events WHERE profile_seq = ? ORDER BY date DESC, seq DESC LIMIT -1 OFFSET ?
					) RETURNING id`,
				).all(seq, MAX_TIMELINE_EVENTS) as Array<{ id: string }>
			).map((r) => r.id),
		);
		const kept = written.filter((e) => !dropped.has(e.id));
		// An event added and dropped at once (older than the whole full timeline) changed nothing.
		const droppedStored = [...dropped].some((id) => !added.has(id));
		return { written: kept, changed: kept.length > 0 || droppedStored };
	}

	// --- reads --------------------------------------------------------------------------------

	private profileRow(profileId: string): ProfileRow | undefined {
		return this.stmt(`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.id = ?`).get(profileId) as
			| ProfileRow
			| undefined;
	}

	private findRows(domainGroup: string, property: string, value: PropertyValue, limit: number): ProfileRow[] {
		return this.stmt(
			`SELECT ${PROFILE_COLUMNS} FROM identifiers i JOIN profiles p ON p.seq = i.profile_seq
			 WHERE i.domain_group = ? AND i.property = ? AND i.value = ?
			 ORDER BY i.created_at, i.profile_seq LIMIT ?`,
		).all(domainGroup, property, valueKey(value), limit) as unknown as ProfileRow[];
	}

	private withTimeline(profile: Profile, seq: number, timeline: boolean | undefined): Profile {
		if (!timeline) return profile;
		const rows = this.stmt(
			'SELECT id, event_type, date, data FROM timeline_events WHERE profile_seq = ? ORDER BY date, seq',
		).all(seq) as unknown as EventRow[];
		return { ...profile, timeline: rows.map(toEvent) };
	}
}

function emptyResult(state: ApplyResult['state']): ApplyResult {
	return { state, changes: {}, events: [], ambiguous: false };
}

/** Arguments as (name, value) pairs: each value must be a non-empty string. */
function checkText(...pairs: unknown[]): void {
	checkStrings(pairs, false);
}

/** The same, where undefined means "use the default". */
function checkOptionalText(...pairs: unknown[]): void {
	checkStrings(pairs, true);
}

function checkStrings(pairs: unknown[], optional: boolean): void {
	const issues: ValidationIssue[] = [];
	for (let i = 0; i < pairs.length; i += 2) {
		const value = pairs[i + 1];
		if (optional && value === undefined) continue;
		if (typeof value !== 'string' || value === '') {
			issues.push({ target: String(pairs[i]), message: 'must be a non-empty string' });
		}
	}
	if (issues.length) throw new ValidationError(issues);
}

function checkIdentifier(domainGroup: unknown, property: unknown, value: unknown): void {
	const issues: ValidationIssue[] = [];
	if (typeof domainGroup !== 'string' || domainGroup === '') {
		issues.push({ target: 'domainGroup', message: 'must be a non-empty string' });
	}
	if (typeof property !== 'string' || property === '') {
		issues.push({ target: 'identifier', message: 'the identifier property is missing' });
	} else if (!isValidPropertyId(property)) {
		issues.push({ target: 'identifier', message: `${JSON.stringify(property)} cannot be a property id` });
	}
	if (!isPropertyValue(value)) {
		issues.push({ target: 'identifier', message: 'the identifier value must be a string, number or boolean' });
	}
	if (issues.length) throw new ValidationError(issues);
}

function toProfile(row: ProfileRow): Profile {
	return {
		id: row.id,
		domainGroup: row.domain_group,
		legislation: row.legislation,
		createdAt: row.created_at,
		updatedAt: row.updated_at,
		properties: JSON.parse(row.properties) as ProfileProperties,
	};
}

function toEvent(row: EventRow): TimelineEvent {
	return {
		id: row.id,
		eventType: row.event_type,
		date: row.date,
		data: JSON.parse(row.data) as Record<string, unknown>,
	};
}

