/**
 * The PostgreSQL adapter's own primitives against a real PostgreSQL: migrations, the port's
 * transactional guarantees (row locks, identifier locks, savepoints, rollback), the change feed's
 * order under concurrent writers, and unreachable -> StoreUnavailableError with recovery.
 * The engine's rules over this adapter are the contract suite's job (contract.ts).
 */
import { randomUUID } from 'node:crypto';

import type { Profile } from '../../../lib/profiles/types';
import type { ChangeFeedInput, StoredProfile, StoreTransaction } from '../../../lib/store/ProfileStore';
import {
	PostgresProfileStore,
	POSTGRES_MIGRATIONS,
	POSTGRES_SCHEMA_VERSION,
	postgresConfigFromUrl,
	postgresConfigIssues,
	type PostgresStoreConfig,
} from '../../../lib/store/postgres';
import { StoreUnavailableError } from '../../../lib/store/StoreUnavailableError';
import { describePostgres, PrivateCluster, sql, testConfig } from '../../helpers/postgres';

const stores: PostgresProfileStore[] = [];
function open(config: PostgresStoreConfig): PostgresProfileStore {
	const store = new PostgresProfileStore(config);
	stores.push(store);
	return store;
}
afterEach(async () => {
	await Promise.all(stores.splice(0).map((s) => s.close()));
});

function newProfile(properties: Profile['properties'] = {}, createdAt = new Date().toISOString()): Profile {
	return { id: randomUUID(), domainGroup: 'DEFAULT', legislation: 'NONE', createdAt, updatedAt: createdAt, properties };
}

function change(profileId: string, n = 0): ChangeFeedInput {
	return {
		profileId,
		domainGroup: 'DEFAULT',
		state: 'MODIFIED',
		source: 'test',
		changes: { n: { mode: 'set', before: [], after: [n] } },
		events: [],
		segmentsEntered: [],
		segmentsLeft: [],
		committedAt: new Date().toISOString(),
	};
}

/** Find or create by email, then add `amount` to `total`: the engine's shape, in miniature. */
async function sumByEmail(tx: StoreTransaction, email: string, amount: number): Promise<'CREATED' | 'MODIFIED'> {
	await tx.lockIdentifier('DEFAULT', 'email', email);
	const [found] = await tx.profilesByIdentifier('DEFAULT', 'email', email, 1);
	if (!found) {
		const stored = await tx.insertProfile(newProfile({ email: [email], total: [amount] }));
		await tx.updateIdentifierKeys(stored, 'email', [email], []);
		await tx.appendChange({ ...change(stored.profile.id), state: 'CREATED' });
		return 'CREATED';
	}
	const total = Number(found.profile.properties.total?.[0] ?? 0) + amount;
	await tx.updateProfile(found, { ...found.profile, properties: { ...found.profile.properties, total: [total] } });
	await tx.appendChange(change(found.profile.id, total));
	return 'MODIFIED';
}

describe('PostgreSQL store configuration', () => {
	it('names every problem of a config', () => {
		expect(
			postgresConfigIssues({ host: '', database: '', user: '', port: 70000, schema: 'Bad-Name', ssl: 'sometimes' as never }),
		).toEqual([
			'host is empty',
			'database is empty',
			'user is empty',
			'port 70000 is not a TCP port',
			'schema "Bad-Name" must be lower-case letters, digits and _ (not starting with a digit), at most 63',
			'ssl "sometimes" must be disable, require or verify-full',
		]);
	});

	it('reads a postgres:// URL with its schema and sslmode', () => {
		expect(postgresConfigFromUrl('postgres://u%40x:p%2Fw@db.example:6543/profiles?schema=cdp&sslmode=require')).toEqual({
			host: 'db.example',
			port: 6543,
			database: 'profiles',
			user: 'u@x',
			password: 'p/w',
			ssl: 'require',
			schema: 'cdp',
		});
	});

	it('refuses a bad schema name before connecting', () => {
		expect(() => new PostgresProfileStore({ host: '127.0.0.1', database: 'x', user: 'x', schema: 'a"; DROP' })).toThrow(
			/schema "a\\"; DROP" must be lower-case/,
		);
	});
});

describePostgres('PostgreSQL store', () => {
	describe('migrations', () => {
		it('creates the schema on first use, records each version once, and is a no-op the second time', async () => {
			const config = testConfig();
			await open(config).ready();
			await open(config).ready();
			const rows = await sql<{ version: number }>(config, 'SELECT version FROM schema_migrations ORDER BY version');
			expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
			const tables = await sql<{ table_name: string }>(
				config,
				"SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
				[config.schema],
			);
			expect(tables.map((t) => t.table_name)).toEqual(
				expect.arrayContaining(['change_feed', 'identifiers', 'profiles', 'schema_migrations', 'segments', 'timeline_events']),
			);
		});

		it('migrates once when many stores open the same schema at the same moment', async () => {
			const config = testConfig();
			await Promise.all(Array.from({ length: 8 }, () => open(config).ready()));
			const rows = await sql<{ n: string }>(config, 'SELECT count(*) AS n FROM schema_migrations');
			expect(Number(rows[0].n)).toBe(POSTGRES_SCHEMA_VERSION);
		});

		it('refuses a schema written by a newer release, with a message that says so', async () => {
			const config = testConfig();
			await open(config).ready();
			await sql(config, "INSERT INTO schema_migrations (version, description) VALUES ($1, 'from the future')", [
				POSTGRES_SCHEMA_VERSION + 1,
			]);
			const error = await open(config).ready().catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect((error as Error).message).toMatch(/has schema version 2, newer than this release knows \(1\); upgrade the package/);
		});

		it('keeps two schemas of one database apart', async () => {
			const a = open(testConfig());
			const b = open(testConfig());
			await a.write(async (tx) => tx.insertProfile(newProfile({ email: ['a@example.com'] })));
			expect(await a.read((tx) => tx.countProfiles())).toBe(1);
			expect(await b.read((tx) => tx.countProfiles())).toBe(0);
		});
	});

	describe('transactions', () => {
		it('commits when work resolves and rolls everything back when it throws', async () => {
			const store = open(testConfig());
			const kept = newProfile({ a: [1] });
			await store.write(async (tx) => tx.insertProfile(kept));
			await expect(
				store.write(async (tx) => {
					await tx.insertProfile(newProfile());
					await tx.appendChange(change(kept.id));
					throw new Error('rule broken');
				}),
			).rejects.toThrow('rule broken');
			await store.read(async (tx) => {
				expect(await tx.countProfiles()).toBe(1);
				expect(await tx.lastChangeSeq()).toBe(0);
				expect((await tx.profileById(kept.id))?.profile).toEqual(kept);
			});
		});

		it('a savepoint undoes only its own writes and the transaction goes on', async () => {
			const store = open(testConfig());
			const outcome = await store.write(async (tx) => {
				const first = await tx.savepoint(async () => tx.insertProfile(newProfile({ n: [1] })));
				const second = await tx
					.savepoint(async () => {
						await tx.insertProfile(newProfile({ n: [2] }));
						throw new Error('record 2 is invalid');
					})
					.catch((e: Error) => e.message);
				const third = await tx.savepoint(async () => tx.insertProfile(newProfile({ n: [3] })));
				return { first: first.profile.properties, second, third: third.profile.properties };
			});
			expect(outcome).toEqual({ first: { n: [1] }, second: 'record 2 is invalid', third: { n: [3] } });
			const all = await store.read((tx) => tx.scanProfiles(0, 10));
			expect(all.map((p) => p.profile.properties.n[0])).toEqual([1, 3]);
		});

		it('a read transaction is one snapshot and cannot write', async () => {
			const config = testConfig();
			const store = open(config);
			await store.write(async (tx) => tx.insertProfile(newProfile()));
			await store.read(async (tx) => {
				expect(await tx.countProfiles()).toBe(1);
				await open(config).write(async (w) => w.insertProfile(newProfile()));
				expect(await tx.countProfiles()).toBe(1); // not the commit made meanwhile
			});
			await expect(store.read(async (tx) => tx.insertProfile(newProfile()))).rejects.toThrow(/read-only transaction/);
		});

		it('locks a profile read in a write transaction until commit: concurrent sums are exact', async () => {
			const config = testConfig({ maxConnections: 8 });
			const stores = [open(config), open(config), open(config)];
			const created = newProfile({ total: [0] });
			await stores[0].write(async (tx) => tx.insertProfile(created));
			const writes = Array.from({ length: 150 }, (_, i) =>
				stores[i % 3].write(async (tx) => {
					const stored = (await tx.profileById(created.id)) as StoredProfile;
					const total = Number(stored.profile.properties.total[0]) + (i + 1);
					await new Promise((resolve) => setImmediate(resolve)); // let the others run in between
					await tx.updateProfile(stored, { ...stored.profile, properties: { total: [total] } });
				}),
			);
			await Promise.all(writes);
			const stored = await stores[0].read((tx) => tx.profileById(created.id));
			expect(stored?.profile.properties.total).toEqual([(150 * 151) / 2]);
		});

		it('lockIdentifier makes concurrent find-or-create of one identifier create one profile', async () => {
			const config = testConfig({ maxConnections: 10 });
			const store = open(config);
			const other = open(config);
			const states = await Promise.all(
				Array.from({ length: 40 }, (_, i) =>
					(i % 2 ? store : other).write(async (tx) => sumByEmail(tx, `p${i % 4}@example.com`, 1)),
				),
			);
			expect(states.filter((s) => s === 'CREATED')).toHaveLength(4);
			const profiles = await store.read((tx) => tx.scanProfiles(0, 100));
			expect(profiles.map((p) => p.profile.properties.total[0])).toEqual([10, 10, 10, 10]);
		});

		it('runs the whole work again after a deadlock, and a savepoint does not swallow it', async () => {
			const config = testConfig({ maxConnections: 4 });
			const store = open(config);
			const [a, b] = [newProfile({ n: [0] }), newProfile({ n: [0] })];
			await store.write(async (tx) => {
				await tx.insertProfile(a);
				await tx.insertProfile(b);
			});
			let attempts = 0;
			// Two transactions lock a then b and b then a, each inside a savepoint that would report
			// the failure as a batch record's error if the store let it.
			const bump = (first: Profile, second: Profile) =>
				store.write(async (tx) => {
					attempts++;
					const results: string[] = [];
					for (const profile of [first, second]) {
						results.push(
							await tx
								.savepoint(async () => {
									const stored = (await tx.profileById(profile.id)) as StoredProfile;
									await new Promise((resolve) => setTimeout(resolve, 50));
									await tx.updateProfile(stored, {
										...stored.profile,
										properties: { n: [Number(stored.profile.properties.n[0]) + 1] },
									});
									return 'ok';
								})
								.catch((e: Error) => `error: ${e.message}`),
						);
					}
					return results;
				});
			const results = await Promise.all([bump(a, b), bump(b, a)]);
			expect(results).toEqual([
				['ok', 'ok'],
				['ok', 'ok'],
			]);
			expect(attempts).toBeGreaterThan(2); // one of them ran again
			const after = await store.read(async (tx) => [await tx.profileById(a.id), await tx.profileById(b.id)]);
			expect(after.map((p) => p?.profile.properties.n)).toEqual([[2], [2]]);
		});
	});

	describe('primitives', () => {
		it('finds profiles by identifier, earliest created first, and keeps the index as told', async () => {
			const store = open(testConfig());
			const older = newProfile({ email: ['x@example.com'] }, '2024-01-01T00:00:00.000Z');
			const newer = newProfile({ email: ['x@example.com'] }, '2025-01-01T00:00:00.000Z');
			await store.write(async (tx) => {
				for (const p of [newer, older]) await tx.updateIdentifierKeys(await tx.insertProfile(p), 'email', ['x@example.com'], []);
			});
			const found = await store.read((tx) => tx.profilesByIdentifier('DEFAULT', 'email', 'x@example.com', 2));
			expect(found.map((p) => p.profile.id)).toEqual([older.id, newer.id]);
			expect(await store.read((tx) => tx.profilesByIdentifier('OTHER', 'email', 'x@example.com', 2))).toEqual([]);
			await store.write(async (tx) => {
				const stored = (await tx.profileById(older.id)) as StoredProfile;
				await tx.updateIdentifierKeys(stored, 'email', ['y@example.com'], ['x@example.com']);
			});
			const again = await store.read((tx) => tx.profilesByIdentifier('DEFAULT', 'email', 'x@example.com', 5));
			expect(again.map((p) => p.profile.id)).toEqual([newer.id]);
		});

		it('adds an indexed property once and fills it from every stored profile', async () => {
			const store = open(testConfig());
			const profiles = Array.from({ length: 1200 }, (_, i) => newProfile({ crm: [`c${i}`, `alt${i}`] }));
			await store.write(async (tx) => {
				for (const p of profiles) await tx.insertProfile(p);
			});
			const keysOf = (p: Profile) => (p.properties.crm ?? []).map(String);
			expect(await store.write((tx) => tx.addIndexedProperty('crm', keysOf))).toBe(true);
			expect(await store.write((tx) => tx.addIndexedProperty('crm', keysOf))).toBe(false);
			expect(await store.read((tx) => tx.indexedProperties())).toEqual(new Set(['crm']));
			const found = await store.read((tx) => tx.profilesByIdentifier('DEFAULT', 'crm', 'alt1199', 2));
			expect(found.map((p) => p.profile.id)).toEqual([profiles[1199].id]);
		});

		it('keeps the timeline: upsert by id, count, trim the oldest, read in date order', async () => {
			const store = open(testConfig());
			const profile = newProfile();
			const event = (id: string, date: string, n = 0) => ({ id, eventType: 'order', date, data: { n } });
			const result = await store.write(async (tx) => {
				const stored = await tx.insertProfile(profile);
				const first = await tx.upsertEvents(stored, [
					event('e1', '2024-01-03T00:00:00.000Z'),
					event('e2', '2024-01-01T00:00:00.000Z'),
					event('e3', '2024-01-02T00:00:00.000Z'),
				]);
				const second = await tx.upsertEvents(stored, [event('e1', '2024-01-04T00:00:00.000Z', 1), event('e4', '2024-01-05T00:00:00.000Z')]);
				const dropped = await tx.trimTimeline(stored, 2);
				return { first, second, dropped };
			});
			expect(result).toEqual({ first: 3, second: 4, dropped: expect.arrayContaining(['e2', 'e3']) as unknown });
			await store.read(async (tx) => {
				const stored = (await tx.profileById(profile.id)) as StoredProfile;
				expect(stored.eventCount).toBe(2);
				expect(await tx.timeline(stored)).toEqual([event('e1', '2024-01-04T00:00:00.000Z', 1), event('e4', '2024-01-05T00:00:00.000Z')]);
				expect((await tx.eventsByIds(stored, ['e4', 'e2'])).map((e) => e.id)).toEqual(['e4']);
			});
		});

		it('erases a profile with its identifiers, timeline, snapshots and feed entries; idempotency keys stay', async () => {
			const config = testConfig();
			const store = open(config);
			const profile = newProfile({ email: ['gone@example.com'] });
			const keep = newProfile({ email: ['kept@example.com'] });
			await store.write(async (tx) => {
				for (const p of [profile, keep]) {
					const stored = await tx.insertProfile(p);
					await tx.updateIdentifierKeys(stored, 'email', p.properties.email as string[], []);
					await tx.upsertEvents(stored, [{ id: 'e', eventType: 't', date: '2024-01-01T00:00:00.000Z', data: {} }]);
					await tx.appendChange(change(p.id));
					await tx.putSnapshots('goal', [{ key: p.id, properties: p.properties }]);
				}
				await tx.putIdempotency('trigger', 'k1', { answer: { state: 'CREATED' }, expiresAt: '2999-01-01T00:00:00.000Z' });
			});
			await store.write(async (tx) => tx.deleteProfile((await tx.profileById(profile.id)) as StoredProfile));
			await store.scrub();
			for (const table of ['identifiers', 'timeline_events', 'change_feed', 'sent_snapshots', 'profiles']) {
				const rows = await sql(config, `SELECT * FROM ${table}`);
				expect(JSON.stringify(rows)).not.toContain(profile.id);
				expect(JSON.stringify(rows)).not.toContain('gone@example.com');
				expect(rows.length).toBeGreaterThan(0); // the other profile's rows are still there
			}
			expect(await store.read((tx) => tx.getIdempotency('trigger', 'k1', new Date().toISOString()))).toEqual({
				answer: { state: 'CREATED' },
				expiresAt: '2999-01-01T00:00:00.000Z',
			});
		});

		it('keeps cursors, snapshots, idempotency windows and segments', async () => {
			const store = open(testConfig());
			await store.write(async (tx) => {
				await tx.setCursor('consumer', 5);
				await tx.setCursor('consumer', 7);
				await tx.putSnapshots('g1', [
					{ key: 'k', properties: { a: [1] } },
					{ key: 'k', properties: { a: [2] } },
				]);
				await tx.putSnapshots('g2', [{ key: 'k', properties: { b: ['x'] } }]);
				await tx.putIdempotency('s', 'old', { answer: 1, expiresAt: '2020-01-01T00:00:00.000Z' });
				await tx.putIdempotency('s', 'new', { answer: 2, expiresAt: '2999-01-01T00:00:00.000Z' });
				await tx.putSegment({ name: 'VIP', description: 'big spenders', conditions: { all: [] }, updatedAt: '2024-01-01T00:00:00.000Z' });
			});
			const now = new Date().toISOString();
			await store.write(async (tx) => {
				expect(await tx.getCursor('consumer')).toBe(7);
				expect(await tx.getCursor('nobody')).toBeUndefined();
				expect(await tx.getSnapshot('g1', 'k')).toEqual({ a: [2] });
				expect((await tx.snapshotsOfKey('k')).map((s) => [s.goalId, s.properties])).toEqual([
					['g1', { a: [2] }],
					['g2', { b: ['x'] }],
				]);
				expect(await tx.getIdempotency('s', 'old', now)).toBeUndefined();
				await tx.purgeIdempotency(now, 10);
				expect(await tx.segments()).toEqual([
					{ name: 'VIP', description: 'big spenders', conditions: { all: [] }, updatedAt: '2024-01-01T00:00:00.000Z' },
				]);
				expect(await tx.deleteSegment('VIP')).toBe(true);
				expect(await tx.deleteSegment('VIP')).toBe(false);
			});
			const remaining = await store.read(async (tx) => [await tx.getIdempotency('s', 'new', now), await tx.getIdempotency('s', 'old', '2000-01-01T00:00:00.000Z')]);
			expect(remaining).toEqual([{ answer: 2, expiresAt: '2999-01-01T00:00:00.000Z' }, undefined]);
		});
	});

	describe('change feed', () => {
		it('appends in order and reads by seq, per profile and from the tail', async () => {
			const store = open(testConfig());
			const seqs = await store.write(async (tx) => [await tx.appendChange(change('p1', 1)), await tx.appendChange(change('p2', 2)), await tx.appendChange(change('p1', 3))]);
			expect(seqs[0]).toBeLessThan(seqs[1]);
			expect(seqs[1]).toBeLessThan(seqs[2]);
			await store.read(async (tx) => {
				expect(await tx.lastChangeSeq()).toBe(seqs[2]);
				expect((await tx.readChanges(seqs[0], 10)).map((e) => e.seq)).toEqual([seqs[1], seqs[2]]);
				const ofP1 = await tx.changesOfProfile('p1');
				expect(ofP1.map((e) => e.changes.n.after)).toEqual([[1], [3]]);
				expect(ofP1[0]).toEqual({ ...change('p1', 1), committedAt: ofP1[0].committedAt, seq: seqs[0] });
			});
		});

		it('a reader following the feed never misses an entry while many writers commit out of step', async () => {
			const config = testConfig({ maxConnections: 12 });
			const writer = open(config);
			const reader = open(config);
			let writing = true;
			const seen: number[] = [];
			const follow = (async () => {
				let cursor = 0;
				while (writing || cursor < (await reader.read((tx) => tx.lastChangeSeq()))) {
					const entries = await reader.read((tx) => tx.readChanges(cursor, 1000));
					for (const e of entries) seen.push(e.seq);
					if (entries.length) cursor = entries[entries.length - 1].seq;
				}
			})();
			// Each writer appends, then holds its transaction open a random while before committing:
			// without the tail lock, a later seq could commit first and the reader's cursor skip one.
			await Promise.all(
				Array.from({ length: 200 }, (_, i) =>
					writer.write(async (tx) => {
						await tx.appendChange(change(`p${i}`, i));
						await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
					}),
				),
			);
			writing = false;
			await follow;
			const all = await reader.read(async (tx) => (await tx.readChanges(0, 1000)).map((e) => e.seq));
			expect(all).toHaveLength(200);
			expect(seen).toEqual(all);
		});
	});

	describe('an unreachable database', () => {
		let cluster: PrivateCluster;
		beforeAll(() => {
			cluster = new PrivateCluster();
			cluster.start();
		});
		afterAll(() => cluster.remove());

		it('answers StoreUnavailableError (503) with nothing written, and recovers by itself', async () => {
			const config = postgresConfigFromUrl(cluster.url as string, { schema: 'recovery', connectTimeoutMs: 2000 });
			const store = open(config);
			await store.write(async (tx) => tx.insertProfile(newProfile({ n: [1] })));

			cluster.stop();
			const error = await store.write(async (tx) => tx.insertProfile(newProfile({ n: [2] }))).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect(error).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE', headers: { 'Retry-After': '1' } });
			expect((error as Error).message).toMatch(/PostgreSQL profile store at 127\.0\.0\.1:\d+\/profiles \(schema recovery\)/);

			cluster.start();
			await store.write(async (tx) => tx.insertProfile(newProfile({ n: [3] })));
			const all = await store.read((tx) => tx.scanProfiles(0, 10));
			expect(all.map((p) => p.profile.properties.n[0])).toEqual([1, 3]);
		});

		it('a store opened while the database is down starts working once it is up', async () => {
			cluster.stop();
			const config = postgresConfigFromUrl(cluster.url as string, { schema: 'late', connectTimeoutMs: 2000 });
			const store = open(config);
			await expect(store.read((tx) => tx.countProfiles())).rejects.toBeInstanceOf(StoreUnavailableError);
			cluster.start();
			expect(await store.read((tx) => tx.countProfiles())).toBe(0);
		});

		it('a connection lost inside a transaction writes nothing and answers 503', async () => {
			const config = postgresConfigFromUrl(cluster.url as string, { schema: 'terminated' });
			const store = open(config);
			await store.ready();
			const error = await store
				.write(async (tx) => {
					await tx.insertProfile(newProfile({ n: [1] }));
					await sql(config, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'n8n-nodes-profile-webhooks' AND pid <> pg_backend_pid()");
					await tx.insertProfile(newProfile({ n: [2] }));
				})
				.catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect(await store.read((tx) => tx.countProfiles())).toBe(0);
		});
	});
});
