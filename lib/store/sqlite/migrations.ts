/**
 * The SQLite store's schema as an ordered list of migrations. The file's `PRAGMA user_version` is
 * the last migration applied; opening a store applies the missing ones in order, in one write
 * transaction, so a later release upgrades an existing store in place. Never edit a released
 * migration: append a new one.
 */
import type { DatabaseSync } from 'node:sqlite';

import { StoreUnavailableError } from '../StoreUnavailableError';

export interface SqliteMigration {
	/** 1, 2, 3, ... in order. */
	version: number;
	description: string;
	sql: string;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
	{
		version: 1,
		description: 'profiles, identifier index, timeline events, sent snapshots',
		sql: `
			-- seq orders creations (AUTOINCREMENT never reuses a number); id is the public UUID.
			CREATE TABLE profiles (
				seq INTEGER PRIMARY KEY AUTOINCREMENT,
				id TEXT NOT NULL UNIQUE,
				domain_group TEXT NOT NULL,
				legislation TEXT NOT NULL,
				created_at TEXT NOT NULL,
				updated_at TEXT NOT NULL,
				properties TEXT NOT NULL -- JSON: property id -> array of values
			) STRICT;

			-- One row per distinct value (string form) of every property of every profile. The key
			-- ends with (created_at, profile_seq) so "earliest created wins" is read in index order.
			CREATE TABLE identifiers (
				domain_group TEXT NOT NULL,
				property TEXT NOT NULL,
				value TEXT NOT NULL,
				created_at TEXT NOT NULL,
				profile_seq INTEGER NOT NULL,
				PRIMARY KEY (domain_group, property, value, created_at, profile_seq)
			) STRICT, WITHOUT ROWID;
			CREATE INDEX identifiers_by_profile ON identifiers (profile_seq);

			-- seq is the order written, the tie-break between events of the same date.
			CREATE TABLE timeline_events (
				seq INTEGER PRIMARY KEY,
				profile_seq INTEGER NOT NULL,
				id TEXT NOT NULL,
				event_type TEXT NOT NULL,
				date TEXT NOT NULL, -- ISO 8601, UTC, so it sorts as text
				data TEXT NOT NULL, -- JSON object
				UNIQUE (profile_seq, id)
			) STRICT;
			CREATE INDEX timeline_events_by_date ON timeline_events (profile_seq, date, seq);

			-- Keyed by the public id: the outgoing node may send for profiles it got from its input.
			CREATE TABLE sent_snapshots (
				profile_id TEXT NOT NULL,
				goal_id TEXT NOT NULL,
				properties TEXT NOT NULL, -- JSON, as last sent
				updated_at TEXT NOT NULL,
				PRIMARY KEY (profile_id, goal_id)
			) STRICT, WITHOUT ROWID;
		`,
	},
	{
		version: 2,
		description:
			'index only identifier properties in use; event counts; change feed, cursors, idempotency keys, segment definitions',
		sql: `
			-- The identifier index held every value of every property (about 9 WAL pages per update).
			-- Now only the properties in use as identifiers are indexed: each is recorded here and
			-- filled from the profiles on first use, so existing stores rebuild what they need.
			CREATE TABLE indexed_properties (
				property TEXT PRIMARY KEY,
				created_at TEXT NOT NULL
			) STRICT, WITHOUT ROWID;
			DELETE FROM identifiers;

			-- The timeline cap is checked on this count instead of a delete per write.
			ALTER TABLE profiles ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;
			UPDATE profiles SET event_count = (SELECT count(*) FROM timeline_events t WHERE t.profile_seq = profiles.seq);

			-- Every committed change set, in commit order (a single writer at a time makes seq that order).
			-- No AUTOINCREMENT (it writes sqlite_sequence, one more page per commit): erasure blanks a
			-- profile's entries instead of deleting them, so the largest seq is never removed and a
			-- seq is never handed out twice.
			CREATE TABLE change_feed (
				seq INTEGER PRIMARY KEY,
				profile_id TEXT NOT NULL, -- '' once erased
				entry TEXT NOT NULL -- JSON ChangeFeedInput; '{}' once erased
			) STRICT;
			CREATE INDEX change_feed_by_profile ON change_feed (profile_id);

			CREATE TABLE feed_cursors (
				consumer_id TEXT PRIMARY KEY,
				seq INTEGER NOT NULL
			) STRICT, WITHOUT ROWID;

			CREATE TABLE idempotency_keys (
				scope TEXT NOT NULL,
				key TEXT NOT NULL,
				answer TEXT NOT NULL, -- JSON
				expires_at TEXT NOT NULL,
				PRIMARY KEY (scope, key)
			) STRICT, WITHOUT ROWID;
			CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

			CREATE TABLE segments (
				name TEXT PRIMARY KEY,
				description TEXT NOT NULL,
				conditions TEXT NOT NULL, -- JSON
				updated_at TEXT NOT NULL
			) STRICT, WITHOUT ROWID;
		`,
	},
];

/** The schema version this release writes. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;

export function readSchemaVersion(db: DatabaseSync): number {
	const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
	return row?.user_version ?? 0;
}

/**
 * Brings the database to the last migration's version. Safe when several processes open the same
 * file at once: the version is read again under the write lock, so each migration runs once.
 * Refuses a file written by a newer release rather than guess at its schema.
 */
export function migrateSqlite(
	db: DatabaseSync,
	migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
): { from: number; to: number } {
	migrations.forEach((m, i) => {
		if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}, expected ${i + 1}`);
	});
	const latest = migrations.length;
	const seen = readSchemaVersion(db);
	if (seen === latest) return { from: seen, to: seen }; // the usual case, without taking the write lock
	db.exec('BEGIN IMMEDIATE');
	try {
		const from = readSchemaVersion(db);
		if (from > latest) {
			throw new StoreUnavailableError(
				`the profile store has schema version ${from}, newer than this release knows (${latest}); upgrade the package`,
			);
		}
		for (const migration of migrations.slice(from)) {
			db.exec(migration.sql);
			db.exec(`PRAGMA user_version = ${migration.version}`);
		}
		db.exec('COMMIT');
		return { from, to: latest };
	} catch (error) {
		db.exec('ROLLBACK');
		throw error;
	}
}
