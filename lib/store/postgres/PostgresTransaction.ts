/**
 * The StoreTransaction primitives in SQL, on one pooled connection inside BEGIN ... COMMIT.
 * A write transaction runs at READ COMMITTED: every profile it reads is locked `FOR UPDATE`, so it
 * sees the latest committed version and keeps it until commit; a read transaction is one
 * REPEATABLE READ READ ONLY snapshot.
 */
import type { PoolClient } from 'pg';

import type { Profile, ProfileProperties, TimelineEvent } from '../../profiles/types';
import type {
	ChangeFeedEntry,
	ChangeFeedInput,
	IdempotencyRecord,
	SnapshotEntry,
	StoredProfile,
	StoredSegment,
	StoreTransaction,
} from '../ProfileStore';
import { isRetryable, isUnavailable } from './errors';
import { lockKey } from './locks';

interface ProfileRow {
	key: string;
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

interface FeedRow {
	seq: string;
	entry: string;
}

const PROFILE_COLUMNS = 'p.key, p.id, p.domain_group, p.legislation, p.created_at, p.updated_at, p.properties, p.event_count';
const PAGE = 500;

export class PostgresTransaction implements StoreTransaction {
	/**
	 * Set when a statement failed in a way that needs the whole transaction run again (deadlock,
	 * serialisation failure) or cannot go on (connection lost), even if `work` caught the error
	 * (a batch's savepoint reports a failed record and carries on): the store then never commits.
	 */
	poisoned: unknown;
	private savepoints = 0;
	private readonly forUpdate: string;

	constructor(
		private readonly client: PoolClient,
		readonly writable: boolean,
		private readonly schema: string,
	) {
		this.forUpdate = writable ? 'FOR UPDATE OF p' : '';
	}

	private async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
		try {
			const result = await this.client.query<R>(sql, params);
			return result.rows;
		} catch (error) {
			if (isRetryable(error) || isUnavailable(error)) this.poisoned ??= error;
			throw error;
		}
	}

	// --- profiles -----------------------------------------------------------------------------

	async profileById(id: string): Promise<StoredProfile | undefined> {
		const rows = await this.query<ProfileRow>(`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.id = $1 ${this.forUpdate}`, [id]);
		return rows.length ? toStored(rows[0]) : undefined;
	}

	async profilesByIdentifier(domainGroup: string, property: string, valueKey: string, limit: number): Promise<StoredProfile[]> {
		const rows = await this.query<ProfileRow>(
			`SELECT ${PROFILE_COLUMNS} FROM identifiers i JOIN profiles p ON p.key = i.profile_key
			 WHERE i.domain_group = $1 AND i.property = $2 AND i.value_key = $3
			 ORDER BY i.created_at, i.profile_key LIMIT $4 ${this.forUpdate}`,
			[domainGroup, property, valueKey, Math.max(0, Math.floor(limit))],
		);
		return rows.map(toStored);
	}

	async lockIdentifier(domainGroup: string, property: string, valueKey: string): Promise<void> {
		await this.query('SELECT pg_advisory_xact_lock($1)', [lockKey('identifier', this.schema, domainGroup, property, valueKey)]);
	}

	async insertProfile(profile: Profile): Promise<StoredProfile> {
		const rows = await this.query<{ key: string }>(
			`INSERT INTO profiles (id, domain_group, legislation, created_at, updated_at, properties)
			 VALUES ($1, $2, $3, $4, $5, $6) RETURNING key`,
			[profile.id, profile.domainGroup, profile.legislation, profile.createdAt, profile.updatedAt, JSON.stringify(profile.properties)],
		);
		const { timeline: _timeline, ...withoutTimeline } = profile;
		return { key: Number(rows[0].key), profile: structuredClone(withoutTimeline), eventCount: 0 };
	}

	async updateProfile(stored: StoredProfile, profile: Profile): Promise<void> {
		await this.query('UPDATE profiles SET legislation = $1, updated_at = $2, properties = $3 WHERE key = $4', [
			profile.legislation,
			profile.updatedAt,
			JSON.stringify(profile.properties),
			stored.key,
		]);
	}

	async deleteProfile(stored: StoredProfile): Promise<void> {
		const id = stored.profile.id;
		await this.query('DELETE FROM sent_snapshots WHERE key = $1', [id]);
		await this.query('DELETE FROM change_feed WHERE profile_id = $1', [id]);
		// identifiers and timeline_events go with the row (ON DELETE CASCADE)
		await this.query('DELETE FROM profiles WHERE key = $1', [stored.key]);
	}

	async scanProfiles(afterKey: number, limit: number, domainGroup?: string): Promise<StoredProfile[]> {
		const bound = Math.max(0, Math.floor(limit));
		const rows =
			domainGroup === undefined
				? await this.query<ProfileRow>(
						`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.key > $1 ORDER BY p.key LIMIT $2 ${this.forUpdate}`,
						[afterKey, bound],
					)
				: await this.query<ProfileRow>(
						`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.domain_group = $3 AND p.key > $1 ORDER BY p.key LIMIT $2 ${this.forUpdate}`,
						[afterKey, bound, domainGroup],
					);
		return rows.map(toStored);
	}

	async countProfiles(): Promise<number> {
		const rows = await this.query<{ n: string }>('SELECT count(*) AS n FROM profiles');
		return Number(rows[0].n);
	}

	// --- identifier index ---------------------------------------------------------------------

	async indexedProperties(): Promise<ReadonlySet<string>> {
		// In a write transaction, SHARE mode waits for a property being added (and its backfill) to
		// commit, and holds off new ones until this transaction commits, so no write misses an index.
		if (this.writable) await this.query('LOCK TABLE indexed_properties IN SHARE MODE');
		const rows = await this.query<{ property: string }>('SELECT property FROM indexed_properties');
		return new Set(rows.map((r) => r.property));
	}

	async addIndexedProperty(property: string, keysOf: (profile: Profile) => string[]): Promise<boolean> {
		// Taken before the insert, so writers that read the set (SHARE) finish first and new ones
		// wait for the backfill.
		await this.query('LOCK TABLE indexed_properties IN SHARE ROW EXCLUSIVE MODE');
		const inserted = await this.query(
			'INSERT INTO indexed_properties (property) VALUES ($1) ON CONFLICT (property) DO NOTHING RETURNING property',
			[property],
		);
		if (!inserted.length) return false;
		for (let after = 0; ; ) {
			const rows = await this.query<ProfileRow>(
				`SELECT ${PROFILE_COLUMNS} FROM profiles p WHERE p.key > $1 ORDER BY p.key LIMIT $2`,
				[after, PAGE],
			);
			if (!rows.length) break;
			const domainGroups: string[] = [];
			const keys: string[] = [];
			const createdAts: string[] = [];
			const profileKeys: string[] = [];
			for (const row of rows) {
				const stored = toStored(row);
				for (const key of new Set(keysOf(stored.profile))) {
					domainGroups.push(row.domain_group);
					keys.push(key);
					createdAts.push(row.created_at);
					profileKeys.push(row.key);
				}
			}
			if (keys.length) {
				await this.query(
					`INSERT INTO identifiers (domain_group, property, value_key, created_at, profile_key)
					 SELECT d, $2, v, c, k FROM unnest($1::text[], $3::text[], $4::text[], $5::bigint[]) AS t(d, v, c, k)
					 ON CONFLICT DO NOTHING`,
					[domainGroups, property, keys, createdAts, profileKeys],
				);
			}
			after = Number(rows[rows.length - 1].key);
		}
		return true;
	}

	async updateIdentifierKeys(stored: StoredProfile, property: string, add: readonly string[], remove: readonly string[]): Promise<void> {
		const { domainGroup, createdAt } = stored.profile;
		if (remove.length) {
			await this.query(
				`DELETE FROM identifiers WHERE domain_group = $1 AND property = $2 AND value_key = ANY($3::text[])
				 AND created_at = $4 AND profile_key = $5`,
				[domainGroup, property, [...remove], createdAt, stored.key],
			);
		}
		if (add.length) {
			await this.query(
				`INSERT INTO identifiers (domain_group, property, value_key, created_at, profile_key)
				 SELECT $1, $2, v, $4, $5 FROM unnest($3::text[]) AS t(v) ON CONFLICT DO NOTHING`,
				[domainGroup, property, [...add], createdAt, stored.key],
			);
		}
	}

	// --- timeline -----------------------------------------------------------------------------

	async eventsByIds(stored: StoredProfile, ids: readonly string[]): Promise<TimelineEvent[]> {
		if (!ids.length) return [];
		const rows = await this.query<EventRow>(
			'SELECT id, event_type, date, data FROM timeline_events WHERE profile_key = $1 AND id = ANY($2::text[]) ORDER BY date, seq',
			[stored.key, [...ids]],
		);
		return rows.map(toEvent);
	}

	async upsertEvents(stored: StoredProfile, events: readonly TimelineEvent[]): Promise<number> {
		if (!events.length) {
			const rows = await this.query<{ event_count: number }>('SELECT event_count FROM profiles WHERE key = $1', [stored.key]);
			return rows[0]?.event_count ?? 0;
		}
		// One statement per event keeps the order written (seq) equal to the order given.
		let added = 0;
		for (const event of events) {
			const rows = await this.query<{ inserted: boolean }>(
				`INSERT INTO timeline_events (profile_key, id, event_type, date, data) VALUES ($1, $2, $3, $4, $5)
				 ON CONFLICT (profile_key, id) DO UPDATE SET event_type = excluded.event_type, date = excluded.date, data = excluded.data
				 RETURNING (xmax = 0) AS inserted`,
				[stored.key, event.id, event.eventType, event.date, JSON.stringify(event.data)],
			);
			if (rows[0]?.inserted) added++;
		}
		const rows = await this.query<{ event_count: number }>(
			'UPDATE profiles SET event_count = event_count + $1 WHERE key = $2 RETURNING event_count',
			[added, stored.key],
		);
		return rows[0].event_count;
	}

	async trimTimeline(stored: StoredProfile, max: number): Promise<string[]> {
		const dropped = await this.query<{ id: string }>(
			`DELETE FROM timeline_events WHERE seq IN (
				SELECT seq FROM timeline_events WHERE profile_key = $1 ORDER BY date DESC, seq DESC OFFSET $2
			) RETURNING id`,
			[stored.key, Math.max(0, Math.floor(max))],
		);
		if (dropped.length) {
			await this.query('UPDATE profiles SET event_count = event_count - $1 WHERE key = $2', [dropped.length, stored.key]);
		}
		return dropped.map((r) => r.id);
	}

	async timeline(stored: StoredProfile): Promise<TimelineEvent[]> {
		const rows = await this.query<EventRow>(
			'SELECT id, event_type, date, data FROM timeline_events WHERE profile_key = $1 ORDER BY date, seq',
			[stored.key],
		);
		return rows.map(toEvent);
	}

	// --- change feed --------------------------------------------------------------------------

	async appendChange(entry: ChangeFeedInput): Promise<number> {
		// Held until commit: appends serialise here, at the tail only, so a reader that has seen seq n
		// never later finds a smaller one committed after it.
		await this.query('SELECT pg_advisory_xact_lock($1)', [lockKey('change-feed', this.schema)]);
		const rows = await this.query<{ seq: string }>(
			"INSERT INTO change_feed (seq, profile_id, entry) VALUES (nextval('change_feed_seq'), $1, $2) RETURNING seq",
			[entry.profileId, JSON.stringify(entry)],
		);
		return Number(rows[0].seq);
	}

	async readChanges(afterSeq: number, limit: number): Promise<ChangeFeedEntry[]> {
		const rows = await this.query<FeedRow>('SELECT seq, entry FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT $2', [
			afterSeq,
			Math.max(0, Math.floor(limit)),
		]);
		return rows.map(toFeedEntry);
	}

	async lastChangeSeq(): Promise<number> {
		const rows = await this.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM change_feed');
		return Number(rows[0].seq ?? 0);
	}

	async changesOfProfile(profileId: string): Promise<ChangeFeedEntry[]> {
		const rows = await this.query<FeedRow>('SELECT seq, entry FROM change_feed WHERE profile_id = $1 ORDER BY seq', [profileId]);
		return rows.map(toFeedEntry);
	}

	async getCursor(consumerId: string): Promise<number | undefined> {
		const rows = await this.query<{ seq: string }>('SELECT seq FROM feed_cursors WHERE consumer_id = $1', [consumerId]);
		return rows.length ? Number(rows[0].seq) : undefined;
	}

	async setCursor(consumerId: string, seq: number): Promise<void> {
		await this.query(
			'INSERT INTO feed_cursors (consumer_id, seq) VALUES ($1, $2) ON CONFLICT (consumer_id) DO UPDATE SET seq = excluded.seq',
			[consumerId, seq],
		);
	}

	// --- sent snapshots -----------------------------------------------------------------------

	async getSnapshot(goalId: string, key: string): Promise<ProfileProperties | undefined> {
		const rows = await this.query<{ properties: string }>('SELECT properties FROM sent_snapshots WHERE goal_id = $1 AND key = $2', [
			goalId,
			key,
		]);
		return rows.length ? (JSON.parse(rows[0].properties) as ProfileProperties) : undefined;
	}

	async putSnapshots(goalId: string, entries: readonly SnapshotEntry[]): Promise<void> {
		if (!entries.length) return;
		// The last entry wins when a key repeats (as one upsert per entry would).
		const byKey = new Map(entries.map((e) => [e.key, JSON.stringify(e.properties)]));
		await this.query(
			`INSERT INTO sent_snapshots (goal_id, key, properties, updated_at)
			 SELECT $1, k, p, $4 FROM unnest($2::text[], $3::text[]) AS t(k, p)
			 ON CONFLICT (goal_id, key) DO UPDATE SET properties = excluded.properties, updated_at = excluded.updated_at`,
			[goalId, [...byKey.keys()], [...byKey.values()], new Date().toISOString()],
		);
	}

	async snapshotsOfKey(key: string): Promise<Array<{ goalId: string; properties: ProfileProperties; updatedAt: string }>> {
		const rows = await this.query<{ goal_id: string; properties: string; updated_at: string }>(
			'SELECT goal_id, properties, updated_at FROM sent_snapshots WHERE key = $1 ORDER BY goal_id',
			[key],
		);
		return rows.map((r) => ({ goalId: r.goal_id, properties: JSON.parse(r.properties) as ProfileProperties, updatedAt: r.updated_at }));
	}

	// --- idempotency --------------------------------------------------------------------------

	async getIdempotency(scope: string, key: string, now: string): Promise<IdempotencyRecord | undefined> {
		const rows = await this.query<{ answer: string; expires_at: string }>(
			'SELECT answer, expires_at FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at > $3',
			[scope, key, now],
		);
		return rows.length ? { answer: JSON.parse(rows[0].answer) as unknown, expiresAt: rows[0].expires_at } : undefined;
	}

	async putIdempotency(scope: string, key: string, record: IdempotencyRecord): Promise<void> {
		await this.query(
			`INSERT INTO idempotency_keys (scope, key, answer, expires_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (scope, key) DO UPDATE SET answer = excluded.answer, expires_at = excluded.expires_at`,
			[scope, key, JSON.stringify(record.answer), record.expiresAt],
		);
	}

	async purgeIdempotency(now: string, limit: number): Promise<void> {
		await this.query(
			`DELETE FROM idempotency_keys WHERE (scope, key) IN (
				SELECT scope, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
			)`,
			[now, Math.max(0, Math.floor(limit))],
		);
	}

	// --- segments -----------------------------------------------------------------------------

	async segments(): Promise<StoredSegment[]> {
		const rows = await this.query<{ name: string; description: string; conditions: string; updated_at: string }>(
			'SELECT name, description, conditions, updated_at FROM segments ORDER BY name',
		);
		return rows.map((r) => ({
			name: r.name,
			description: r.description,
			conditions: JSON.parse(r.conditions) as unknown,
			updatedAt: r.updated_at,
		}));
	}

	async putSegment(segment: StoredSegment): Promise<void> {
		await this.query(
			`INSERT INTO segments (name, description, conditions, updated_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (name) DO UPDATE SET description = excluded.description, conditions = excluded.conditions, updated_at = excluded.updated_at`,
			[segment.name, segment.description, JSON.stringify(segment.conditions ?? null), segment.updatedAt],
		);
	}

	async deleteSegment(name: string): Promise<boolean> {
		const rows = await this.query('DELETE FROM segments WHERE name = $1 RETURNING name', [name]);
		return rows.length > 0;
	}

	async savepoint<T>(work: () => Promise<T>): Promise<T> {
		const name = `sp_${++this.savepoints}`;
		await this.query(`SAVEPOINT ${name}`);
		try {
			const result = await work();
			await this.query(`RELEASE SAVEPOINT ${name}`);
			return result;
		} catch (error) {
			// A poisoned transaction is run again whole (or fails): its savepoints no longer matter.
			if (this.poisoned === undefined) await this.query(`ROLLBACK TO SAVEPOINT ${name}`);
			throw error;
		}
	}
}

function toStored(row: ProfileRow): StoredProfile {
	return {
		key: Number(row.key),
		profile: {
			id: row.id,
			domainGroup: row.domain_group,
			legislation: row.legislation,
			createdAt: row.created_at,
			updatedAt: row.updated_at,
			properties: JSON.parse(row.properties) as ProfileProperties,
		},
		eventCount: row.event_count,
	};
}

function toEvent(row: EventRow): TimelineEvent {
	return { id: row.id, eventType: row.event_type, date: row.date, data: JSON.parse(row.data) as Record<string, unknown> };
}

function toFeedEntry(row: FeedRow): ChangeFeedEntry {
	return { ...(JSON.parse(row.entry) as ChangeFeedInput), seq: Number(row.seq) };
}
