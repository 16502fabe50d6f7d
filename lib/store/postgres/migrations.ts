/**
 * The PostgreSQL store's schema as an ordered list of migrations, recorded in `schema_migrations`.
 * Opening a store applies the missing ones in order, in one transaction, under an advisory lock
 * keyed by the schema name, so processes starting together migrate once. Never edit a released
 * migration: append a new one.
 *
 * Text columns that are compared or sorted as ISO 8601 dates use COLLATE "C" (byte order, as in
 * SQLite), whatever the database's default collation.
 */
import type { PoolClient } from 'pg';

import { StoreUnavailableError } from '../StoreUnavailableError';
import { lockKey } from './locks';

export interface PostgresMigration {
	/** 1, 2, 3, ... in order. */
	version: number;
	description: string;
	sql: string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
	{
		version: 1,
		description: 'profiles, identifier index, timeline, change feed, cursors, snapshots, idempotency, segments',
		sql: `
			-- key orders creations; id is the public UUID. properties: JSON text, kept byte for byte.
			CREATE TABLE profiles (
				key bigserial PRIMARY KEY,
				id text NOT NULL UNIQUE,
				domain_group text NOT NULL,
				legislation text NOT NULL,
				created_at text COLLATE "C" NOT NULL,
				updated_at text COLLATE "C" NOT NULL,
				properties text NOT NULL,
				event_count integer NOT NULL DEFAULT 0
			);
			CREATE INDEX profiles_by_domain_group ON profiles (domain_group, key);

			-- The properties whose values are indexed (the identifier properties in use).
			CREATE TABLE indexed_properties (
				property text PRIMARY KEY,
				added_at timestamptz NOT NULL DEFAULT now()
			);

			-- One row per distinct value key of an indexed property of a profile. The key ends with
			-- (created_at, profile_key) so "earliest created wins" is read in index order.
			CREATE TABLE identifiers (
				domain_group text NOT NULL,
				property text NOT NULL,
				value_key text NOT NULL,
				created_at text COLLATE "C" NOT NULL,
				profile_key bigint NOT NULL REFERENCES profiles (key) ON DELETE CASCADE,
				PRIMARY KEY (domain_group, property, value_key, created_at, profile_key)
			);
			CREATE INDEX identifiers_by_profile ON identifiers (profile_key);

			-- seq is the order written, the tie-break between events of the same date.
			CREATE TABLE timeline_events (
				seq bigserial PRIMARY KEY,
				profile_key bigint NOT NULL REFERENCES profiles (key) ON DELETE CASCADE,
				id text NOT NULL,
				event_type text NOT NULL,
				date text COLLATE "C" NOT NULL,
				data text NOT NULL,
				UNIQUE (profile_key, id)
			);
			CREATE INDEX timeline_events_by_date ON timeline_events (profile_key, date, seq);

			-- Committed change sets. seq comes from the sequence while the appending transaction holds
			-- the feed's advisory lock (until commit), so readers see seqs in order.
			CREATE TABLE change_feed (
				seq bigint PRIMARY KEY,
				profile_id text NOT NULL,
				entry text NOT NULL
			);
			CREATE SEQUENCE change_feed_seq OWNED BY change_feed.seq;
			CREATE INDEX change_feed_by_profile ON change_feed (profile_id, seq);

			CREATE TABLE feed_cursors (
				consumer_id text PRIMARY KEY,
				seq bigint NOT NULL
			);

			-- What an outgoing node last sent, by goal and key (a profile id, or an identifier key).
			CREATE TABLE sent_snapshots (
				goal_id text NOT NULL,
				key text NOT NULL,
				properties text NOT NULL,
				updated_at text COLLATE "C" NOT NULL,
				PRIMARY KEY (goal_id, key)
			);
			CREATE INDEX sent_snapshots_by_key ON sent_snapshots (key);

			CREATE TABLE idempotency_keys (
				scope text NOT NULL,
				key text NOT NULL,
				answer text NOT NULL,
				expires_at text COLLATE "C" NOT NULL,
				PRIMARY KEY (scope, key)
			);
			CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

			CREATE TABLE segments (
				name text PRIMARY KEY,
				description text NOT NULL,
				conditions text NOT NULL,
				updated_at text COLLATE "C" NOT NULL
			);
		`,
	},
];

/** The schema version this release writes. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version;

/**
 * Brings `schema` to the last migration. Creates the schema when missing. Refuses a schema written
 * by a newer release rather than guess at it. The caller's connection has search_path = schema.
 */
export async function migratePostgres(
	client: PoolClient,
	schema: string,
	migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<{ from: number; to: number }> {
	migrations.forEach((m, i) => {
		if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}, expected ${i + 1}`);
	});
	const latest = migrations.length;
	const quoted = `"${schema}"`; // checked by config.ts: lower-case letters, digits, _
	await client.query('BEGIN');
	try {
		await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey('migrate', schema)]);
		await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
		await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (
			version integer PRIMARY KEY,
			description text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`);
		const { rows } = await client.query<{ version: number | null }>(
			`SELECT max(version) AS version FROM ${quoted}.schema_migrations`,
		);
		const from = rows[0]?.version ?? 0;
		if (from > latest) {
			throw new StoreUnavailableError(
				`the PostgreSQL profile store (schema ${schema}) has schema version ${from}, newer than this release knows (${latest}); upgrade the package`,
			);
		}
		for (const migration of migrations.slice(from)) {
			await client.query(migration.sql);
			await client.query(`INSERT INTO ${quoted}.schema_migrations (version, description) VALUES ($1, $2)`, [
				migration.version,
				migration.description,
			]);
		}
		await client.query('COMMIT');
		return { from, to: latest };
	} catch (error) {
		await client.query('ROLLBACK').catch(() => undefined);
		throw error;
	}
}
