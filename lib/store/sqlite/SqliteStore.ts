/**
 * The embedded adapter of the ProfileStore port: one SQLite file through Node's own `node:sqlite`.
 * It knows SQL, not business rules (those are lib/profiles/engine.ts).
 *
 * Concurrency: every write transaction is `BEGIN IMMEDIATE`, which takes SQLite's single write lock
 * before reading, so processes sharing the file serialise their writes (no lost update, one profile
 * for concurrent creates, change feed seq in commit order). Within one process the connection runs
 * one transaction at a time (a queue), because the engine's work is asynchronous. Waiting for
 * another process's lock: SQLite's busy_timeout, then a bounded retry of the whole transaction.
 *
 * Durability: WAL with `synchronous = FULL` (the default). Each commit fsyncs the WAL before the
 * promise resolves, so an acknowledged write survives a killed process and a power loss. `NORMAL`
 * survives a killed process only; it is offered for throughput.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';

import type { ProfileProperties, TimelineEvent } from '../../profiles/types';
import type {
	ChangeFeedEntry,
	ChangeFeedInput,
	IdempotencyRecord,
	ProfileStore,
	SnapshotEntry,
	StoredProfile,
	StoredSegment,
	StoreTransaction,
} from '../ProfileStore';
import { StoreUnavailableError } from '../StoreUnavailableError';
import { isBusyError, retryWhileBusy, retryWhileBusySync } from './busyRetry';
import { migrateSqlite } from './migrations';

export interface SqliteStoreOptions {
	/** How long one statement waits for another process's write lock (SQLite busy_timeout). */
	busyTimeoutMs?: number;
	/** Bound on retrying a transaction that still found the store busy; then StoreUnavailableError. */
	maxBusyWaitMs?: number;
	/** FULL (default): durable across power loss. NORMAL: across process crashes only. */
	synchronous?: 'FULL' | 'NORMAL';
}

const DEFAULT_BUSY_TIMEOUT_MS = 1_000;
const DEFAULT_MAX_BUSY_WAIT_MS = 10_000;

/** Where the embedded store lives when no credential chooses another: inside n8n's user folder. */
export function defaultStorePath(userFolder: string): string {
	return join(userFolder, 'profile-webhooks', 'profiles.sqlite');
}

/** Makes the directory and the file, readable by its owner only (profiles are personal data). */
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
	event_count: number;
}

interface EventRow {
	id: string;
	event_type: string;
	date: string;
	data: string;
}

const PROFILE_COLUMNS = 'p.seq, p.id, p.domain_group, p.legislation, p.created_at, p.updated_at, p.properties, p.event_count';

function toStored(row: ProfileRow): StoredProfile {
	return {
		key: row.seq,
		eventCount: row.event_count,
		profile: {
			id: row.id,
			domainGroup: row.domain_group,
			legislation: row.legislation,
			createdAt: row.created_at,
			updatedAt: row.updated_at,
			properties: JSON.parse(row.properties) as ProfileProperties,
		},
	};
}

function toEvent(row: EventRow): TimelineEvent {
	return { id: row.id, eventType: row.event_type, date: row.date, data: JSON.parse(row.data) as Record<string, unknown> };
}

export class SqliteStore implements ProfileStore {
	readonly kind = 'sqlite';
	readonly path: string;
	private readonly db: DatabaseSync;
	private readonly statements = new Map<string, StatementSync>();
	private readonly maxBusyWaitMs: number;
	private readonly tx: StoreTransaction;
	/** One transaction at a time on this connection. */
	private queue: Promise<unknown> = Promise.resolve();
	private savepoints = 0;
	private closed = false;

	/** Opens (creating when needed: directory, file, schema) the store at `path`. */
	constructor(path: string, options: SqliteStoreOptions = {}) {
		this.path = path;
		this.maxBusyWaitMs = options.maxBusyWaitMs ?? DEFAULT_MAX_BUSY_WAIT_MS;
		const busyTimeout = Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
		const synchronous = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
		ensureStoreFile(path);
		try {
			this.db = new DatabaseSync(path);
		} catch (error) {
			throw new StoreUnavailableError(`cannot open the profile store at ${path}: ${(error as Error).message}`, error);
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
			throw new StoreUnavailableError(`cannot open the profile store at ${path}: ${(error as Error).message}`, error);
		}
		this.tx = this.transactionApi();
	}

	write<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		return this.serial(() => retryWhileBusy(() => this.run('BEGIN IMMEDIATE', work), this.maxBusyWaitMs));
	}

	read<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		return this.serial(() => retryWhileBusy(() => this.run('BEGIN', work), this.maxBusyWaitMs));
	}

	async scrub(): Promise<void> {
		// Copy the erasure into the main file and empty the WAL, so no copy of the erased rows stays
		// in it. Best effort: a reader elsewhere can hold the WAL; later checkpoints overwrite it.
		await this.serial(async () => {
			try {
				this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
			} catch {
				// busy: see above
			}
		});
	}

	async close(): Promise<void> {
		if (this.closed) return;
		await this.serial(async () => {
			if (this.closed) return;
			this.closed = true;
			this.statements.clear();
			try {
				this.db.exec('PRAGMA optimize');
			} catch {
				// only a hint for the query planner; closing matters more
			}
			this.db.close();
		});
	}

	// --- transactions -------------------------------------------------------------------------

	private serial<T>(operation: () => Promise<T>): Promise<T> {
		const next = this.queue.then(operation, operation);
		this.queue = next.catch(() => undefined);
		return next;
	}

	/** Returns a promise; `retryWhileBusy` treats a rejected busy error like a thrown one. */
	private async run<T>(begin: string, work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		if (this.closed) throw new StoreUnavailableError('the profile store is closed');
		this.db.exec(begin);
		try {
			const result = await work(this.tx);
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

	private all<T>(sql: string, ...params: SQLInputValue[]): T[] {
		return this.stmt(sql).all(...params) as unknown as T[];
	}

	private get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
		return this.stmt(sql).get(...params) as T | undefined;
	}

	private exec(sql: string, ...params: SQLInputValue[]): void {
		this.stmt(sql).run(...params);
	}

	// --- the primitives ----------------------------------------------------------------------

	private transactionApi(): StoreTransaction {
		const profileRows = (sql: string, ...params: SQLInputValue[]) => this.all<ProfileRow>(sql, ...params).map(toStored);
		return {
			profileById: async (id) => {
				const row = this.get<ProfileRow>(`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.id = ?`, id);
				return row ? toStored(row) : undefined;
			},
			profilesByIdentifier: async (domainGroup, property, valueKey, limit) =>
				profileRows(
					`SELECT ${PROFILE_COLUMNS} FROM identifiers i JOIN profiles p ON p.seq = i.profile_seq
					 WHERE i.domain_group = ? AND i.property = ? AND i.value = ?
					 ORDER BY i.created_at, i.profile_seq LIMIT ?`,
					domainGroup,
					property,
					valueKey,
					limit,
				),
			lockIdentifier: async () => {
				// BEGIN IMMEDIATE already holds the only write lock.
			},
			insertProfile: async (profile) => {
				const result = this.stmt(
					`INSERT INTO profiles (id, domain_group, legislation, created_at, updated_at, properties, event_count)
					 VALUES (?, ?, ?, ?, ?, ?, 0)`,
				).run(
					profile.id,
					profile.domainGroup,
					profile.legislation,
					profile.createdAt,
					profile.updatedAt,
					JSON.stringify(profile.properties),
				);
				return { key: Number(result.lastInsertRowid), profile, eventCount: 0 };
			},
			updateProfile: async (stored, profile) => {
				this.exec(
					'UPDATE profiles SET legislation = ?, updated_at = ?, properties = ? WHERE seq = ?',
					profile.legislation,
					profile.updatedAt,
					JSON.stringify(profile.properties),
					stored.key,
				);
			},
			deleteProfile: async (stored) => {
				const id = stored.profile.id;
				this.exec('DELETE FROM sent_snapshots WHERE profile_id = ?', id);
				// Blanked, not deleted: the entry's seq stays taken (see the change_feed migration).
				this.exec("UPDATE change_feed SET profile_id = '', entry = '{}' WHERE profile_id = ?", id);
				this.exec('DELETE FROM identifiers WHERE profile_seq = ?', stored.key);
				this.exec('DELETE FROM timeline_events WHERE profile_seq = ?', stored.key);
				this.exec('DELETE FROM profiles WHERE seq = ?', stored.key);
			},
			scanProfiles: async (afterKey, limit, domainGroup) =>
				domainGroup === undefined
					? profileRows(`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.seq > ? ORDER BY p.seq LIMIT ?`, afterKey, limit)
					: profileRows(
							`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.seq > ? AND p.domain_group = ? ORDER BY p.seq LIMIT ?`,
							afterKey,
							domainGroup,
							limit,
						),
			countProfiles: async () => this.get<{ n: number }>('SELECT count(*) AS n FROM profiles')?.n ?? 0,

			indexedProperties: async () =>
				new Set(this.all<{ property: string }>('SELECT property FROM indexed_properties').map((r) => r.property)),
			addIndexedProperty: async (property, keysOf) => {
				const inserted = this.stmt(
					'INSERT OR IGNORE INTO indexed_properties (property, created_at) VALUES (?, ?)',
				).run(property, new Date().toISOString());
				if (!inserted.changes) return false;
				const add = this.stmt(
					'INSERT OR IGNORE INTO identifiers (domain_group, property, value, created_at, profile_seq) VALUES (?, ?, ?, ?, ?)',
				);
				// Only profiles holding the property are read (json_extract filters in SQLite).
				const rows = this.stmt(
					`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE json_type(p.properties, '$.' || json_quote(?)) IS NOT NULL`,
				).iterate(property) as Iterable<ProfileRow>;
				for (const row of rows) {
					const stored = toStored(row);
					for (const key of keysOf(stored.profile)) {
						add.run(stored.profile.domainGroup, property, key, stored.profile.createdAt, stored.key);
					}
				}
				return true;
			},
			updateIdentifierKeys: async (stored, property, add, remove) => {
				const { domainGroup, createdAt } = stored.profile;
				for (const key of remove) {
					this.exec(
						'DELETE FROM identifiers WHERE domain_group = ? AND property = ? AND value = ? AND created_at = ? AND profile_seq = ?',
						domainGroup,
						property,
						key,
						createdAt,
						stored.key,
					);
				}
				for (const key of add) {
					this.exec(
						'INSERT OR IGNORE INTO identifiers (domain_group, property, value, created_at, profile_seq) VALUES (?, ?, ?, ?, ?)',
						domainGroup,
						property,
						key,
						createdAt,
						stored.key,
					);
				}
			},

			eventsByIds: async (stored, ids) => {
				const events: TimelineEvent[] = [];
				for (const id of ids) {
					const row = this.get<EventRow>(
						'SELECT id, event_type, date, data FROM timeline_events WHERE profile_seq = ? AND id = ?',
						stored.key,
						id,
					);
					if (row) events.push(toEvent(row));
				}
				return events;
			},
			upsertEvents: async (stored, events) => {
				const upsert = this.stmt(
					`INSERT INTO timeline_events (profile_seq, id, event_type, date, data) VALUES (?, ?, ?, ?, ?)
					 ON CONFLICT (profile_seq, id) DO UPDATE
					 SET event_type = excluded.event_type, date = excluded.date, data = excluded.data`,
				);
				for (const e of events) upsert.run(stored.key, e.id, e.eventType, e.date, JSON.stringify(e.data));
				const row = this.get<{ event_count: number }>(
					`UPDATE profiles SET event_count = (SELECT count(*) FROM timeline_events WHERE profile_seq = ?1)
					 WHERE seq = ?1 RETURNING event_count`,
					stored.key,
				);
				return row?.event_count ?? 0;
			},
			trimTimeline: async (stored, max) => {
				const dropped = this.all<{ id: string }>(
					`DELETE FROM timeline_events WHERE seq IN (
						SELECT seq FROM timeline_events WHERE profile_seq = ? ORDER BY date DESC, seq DESC LIMIT -1 OFFSET ?
					) RETURNING id`,
					stored.key,
					max,
				).map((r) => r.id);
				this.exec(
					'UPDATE profiles SET event_count = (SELECT count(*) FROM timeline_events WHERE profile_seq = ?1) WHERE seq = ?1',
					stored.key,
				);
				return dropped;
			},
			timeline: async (stored) =>
				this.all<EventRow>(
					'SELECT id, event_type, date, data FROM timeline_events WHERE profile_seq = ? ORDER BY date, seq',
					stored.key,
				).map(toEvent),

			appendChange: async (entry: ChangeFeedInput) => {
				const result = this.stmt('INSERT INTO change_feed (profile_id, entry) VALUES (?, ?)').run(
					entry.profileId,
					JSON.stringify(entry),
				);
				return Number(result.lastInsertRowid);
			},
			readChanges: async (afterSeq, limit) =>
				this.all<{ seq: number; entry: string }>(
					"SELECT seq, entry FROM change_feed WHERE seq > ? AND profile_id <> '' ORDER BY seq LIMIT ?",
					afterSeq,
					limit,
				).map(toFeedEntry),
			lastChangeSeq: async () => this.get<{ seq: number | null }>('SELECT max(seq) AS seq FROM change_feed')?.seq ?? 0,
			changesOfProfile: async (profileId) =>
				this.all<{ seq: number; entry: string }>(
					'SELECT seq, entry FROM change_feed WHERE profile_id = ? ORDER BY seq',
					profileId,
				).map(toFeedEntry),
			getCursor: async (consumerId) =>
				this.get<{ seq: number }>('SELECT seq FROM feed_cursors WHERE consumer_id = ?', consumerId)?.seq,
			setCursor: async (consumerId, seq) => {
				this.exec(
					`INSERT INTO feed_cursors (consumer_id, seq) VALUES (?, ?)
					 ON CONFLICT (consumer_id) DO UPDATE SET seq = excluded.seq`,
					consumerId,
					seq,
				);
			},

			getSnapshot: async (goalId, key) => {
				const row = this.get<{ properties: string }>(
					'SELECT properties FROM sent_snapshots WHERE profile_id = ? AND goal_id = ?',
					key,
					goalId,
				);
				return row ? (JSON.parse(row.properties) as ProfileProperties) : undefined;
			},
			putSnapshots: async (goalId, entries: readonly SnapshotEntry[]) => {
				const put = this.stmt(
					`INSERT INTO sent_snapshots (profile_id, goal_id, properties, updated_at) VALUES (?, ?, ?, ?)
					 ON CONFLICT (profile_id, goal_id) DO UPDATE SET properties = excluded.properties, updated_at = excluded.updated_at`,
				);
				const now = new Date().toISOString();
				for (const entry of entries) put.run(entry.key, goalId, JSON.stringify(entry.properties), now);
			},
			snapshotsOfKey: async (key) =>
				this.all<{ goal_id: string; properties: string; updated_at: string }>(
					'SELECT goal_id, properties, updated_at FROM sent_snapshots WHERE profile_id = ? ORDER BY goal_id',
					key,
				).map((r) => ({
					goalId: r.goal_id,
					properties: JSON.parse(r.properties) as ProfileProperties,
					updatedAt: r.updated_at,
				})),

			getIdempotency: async (scope, key, now) => {
				const row = this.get<{ answer: string; expires_at: string }>(
					'SELECT answer, expires_at FROM idempotency_keys WHERE scope = ? AND key = ? AND expires_at > ?',
					scope,
					key,
					now,
				);
				return row ? ({ answer: JSON.parse(row.answer), expiresAt: row.expires_at } as IdempotencyRecord) : undefined;
			},
			putIdempotency: async (scope, key, record) => {
				this.exec(
					`INSERT INTO idempotency_keys (scope, key, answer, expires_at) VALUES (?, ?, ?, ?)
					 ON CONFLICT (scope, key) DO UPDATE SET answer = excluded.answer, expires_at = excluded.expires_at`,
					scope,
					key,
					JSON.stringify(record.answer),
					record.expiresAt,
				);
			},
			purgeIdempotency: async (now, limit) => {
				this.exec(
					`DELETE FROM idempotency_keys WHERE (scope, key) IN (
						SELECT scope, key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?
					)`,
					now,
					limit,
				);
			},

			segments: async () =>
				this.all<{ name: string; description: string; conditions: string; updated_at: string }>(
					'SELECT name, description, conditions, updated_at FROM segments ORDER BY name',
				).map((r) => ({
					name: r.name,
					description: r.description,
					conditions: JSON.parse(r.conditions) as unknown,
					updatedAt: r.updated_at,
				})),
			putSegment: async (segment: StoredSegment) => {
				this.exec(
					`INSERT INTO segments (name, description, conditions, updated_at) VALUES (?, ?, ?, ?)
					 ON CONFLICT (name) DO UPDATE SET description = excluded.description,
					 conditions = excluded.conditions, updated_at = excluded.updated_at`,
					segment.name,
					segment.description,
					JSON.stringify(segment.conditions),
					segment.updatedAt,
				);
			},
			deleteSegment: async (name) => this.stmt('DELETE FROM segments WHERE name = ?').run(name).changes > 0,

			savepoint: async <T>(work: () => Promise<T>): Promise<T> => {
				const name = `record_${++this.savepoints}`;
				this.db.exec(`SAVEPOINT ${name}`);
				try {
					const result = await work();
					this.db.exec(`RELEASE ${name}`);
					return result;
				} catch (error) {
					if (!isBusyError(error)) {
						this.db.exec(`ROLLBACK TO ${name}`);
						this.db.exec(`RELEASE ${name}`);
					}
					throw error;
				}
			},
		};
	}
}

function toFeedEntry(row: { seq: number; entry: string }): ChangeFeedEntry {
	return { ...(JSON.parse(row.entry) as ChangeFeedInput), seq: row.seq };
}

/** Opens (creating when needed) the store at `path`, as a promise like the other adapters' openers. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
	return new SqliteStore(path, options);
}

