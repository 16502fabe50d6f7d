/**
 * The PostgreSQL store shared by several operating-system processes, as n8n's webhook processes
 * and workers share it: exact sums, one profile per identifier for concurrent creates, and a write
 * acknowledged before SIGKILL is there afterwards. The processes are storeWorker.js (the same tasks
 * as sqlite.processes.test.ts) with a PostgreSQL configuration.
 */
import { ProfileEngine } from '../../../lib/profiles/engine';
import { PostgresProfileStore, type PostgresStoreConfig } from '../../../lib/store/postgres';
import { describePostgres, sql, testConfig } from '../../helpers/postgres';
import { killAfterAck, runTogether } from './storeWorkers';

describePostgres('PostgreSQL store across processes', () => {
	let config: PostgresStoreConfig;
	const engine = () => new ProfileEngine(new PostgresProfileStore(config));

	beforeEach(() => {
		config = testConfig({ maxConnections: 4 });
	});
	afterEach(async () => {
		await sql(config, `DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
	});

	it('4 processes x 200 writes to one profile: exact sum, every add kept', async () => {
		const processes = 4;
		const writes = 200;
		const email = 'shared@example.com';
		const store = engine();
		const { id } = await store.create({ properties: { email: [email] } });
		await store.close();

		const { results, ms } = await runTogether(
			Array.from({ length: processes }, (_, worker) => ({ kind: 'hammer', postgres: config, email, writes, worker })),
		);

		const reopened = engine();
		try {
			const profile = await reopened.get(id);
			const tags = new Set(profile?.properties.tags);
			const missing: string[] = [];
			for (let worker = 0; worker < processes; worker++) {
				for (let n = 0; n < writes; n++) if (!tags.has(`p${worker}-w${n}`)) missing.push(`p${worker}-w${n}`);
			}
			console.log(
				`PostgreSQL concurrency: ${processes} processes x ${writes} writes on one profile: visits ` +
					`${profile?.properties.visits?.[0]} of ${processes * writes}, tags ${tags.size}, missing ${missing.length}; ${ms} ms`,
			);
			expect(results.map((r) => r.states)).toEqual(Array(processes).fill({ MODIFIED: writes }));
			expect(profile?.properties.visits).toEqual([processes * writes]);
			expect(missing).toEqual([]);
			expect(profile?.properties.tags).toHaveLength(processes * writes);
			// Every committed change set is in the feed once, in commit order.
			const feed = await sql<{ n: number }>(config, 'SELECT count(*)::int AS n FROM change_feed');
			expect(feed[0].n).toBe(processes * writes + 1);
		} finally {
			await reopened.close();
		}
	}, 120_000);

	it('6 processes creating the same new identifiers at once make exactly one profile each', async () => {
		const processes = 6;
		const identifiers = 30;
		const store = engine();
		await store.ensureIndexed(['email']); // as the trigger does at activation
		await store.close();

		const { results } = await runTogether(
			Array.from({ length: processes }, (_, worker) => ({ kind: 'createRace', postgres: config, identifiers, worker })),
		);

		const check = engine();
		try {
			let profiles = 0;
			let wrongVisits = 0;
			for (let n = 0; n < identifiers; n++) {
				const found = await check.findAllByIdentifier('DEFAULT', 'email', `race-${n}@example.com`, 10);
				profiles += found.length;
				if (found[0]?.properties.visits?.[0] !== processes) wrongVisits++;
			}
			expect(profiles).toBe(identifiers);
			expect(results.flatMap((r) => r.created ?? []).sort((a, b) => a - b)).toEqual(Array.from({ length: identifiers }, (_, n) => n));
			expect(wrongVisits).toBe(0);
		} finally {
			await check.close();
		}
	}, 120_000);

	it('processes opening a brand-new schema at once migrate it once', async () => {
		const { results } = await runTogether(
			Array.from({ length: 6 }, (_, worker) => ({ kind: 'createRace', postgres: config, identifiers: 1, worker })),
		);
		expect(results.flatMap((r) => r.created)).toEqual([0]);
		const versions = await sql<{ version: number }>(config, 'SELECT version FROM schema_migrations');
		expect(versions).toHaveLength(1);
	}, 60_000);

	it('SIGKILL in the middle of a stream of writes loses no acknowledged write', async () => {
		const email = 'stream@example.com';
		let acknowledged = 0;
		for (const atLeast of [40, 100]) {
			acknowledged += await killAfterAck({ kind: 'durableStream', postgres: config, email }, atLeast);
			const store = engine();
			try {
				const visits = (await store.findByIdentifier('DEFAULT', 'email', email)).profile?.properties.visits?.[0];
				console.log(`PostgreSQL durability: ${acknowledged} writes acknowledged before SIGKILL, ${visits} found`);
				expect(visits).toBeGreaterThanOrEqual(acknowledged);
				acknowledged = Number(visits);
			} finally {
				await store.close();
			}
		}
	}, 120_000);
});
