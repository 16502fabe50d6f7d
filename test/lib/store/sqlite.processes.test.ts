/**
 * The SQLite store shared by several operating-system processes, as n8n's main process and its
 * task runners or a second n8n on the same disk would share it: no lost update, one profile per
 * identifier, and an acknowledged write survives SIGKILL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { ProfileEngine } from '../../../lib/profiles/engine';
import { SqliteStore } from '../../../lib/store/sqlite/SqliteStore';

const engineAt = (path: string): ProfileEngine => new ProfileEngine(new SqliteStore(path));

import { killAfterAck, runTogether } from './storeWorkers';

function integrityCheck(path: string): unknown[] {
	const db = new DatabaseSync(path);
	try {
		return db.prepare('PRAGMA integrity_check').all();
	} finally {
		db.close();
	}
}

describe('SQLite store across processes', () => {
	let dir: string;
	let path: string;

	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'profile-store-processes-'));
		path = join(dir, 'profiles.sqlite');
	});

	afterEach(() => {
		rmSync(dir, { recursive: true, force: true });
	});

	it('4 processes x 250 writes to one profile: no lost update', async () => {
		const processes = 4;
		const writes = 250;
		const email = 'shared@example.com';
		const store = engineAt(path);
		const { id } = await store.create({ properties: { email: [email] } });
		await store.close();

		const { results, ms } = await runTogether(
			Array.from({ length: processes }, (_, worker) => ({ kind: 'hammer', path, email, writes, worker })),
		);

		const reopened = engineAt(path);
		try {
			const profile = await reopened.get(id);
			const visits = profile?.properties.visits?.[0];
			const tags = new Set(profile?.properties.tags);
			const missing: string[] = [];
			for (let worker = 0; worker < processes; worker++) {
				for (let n = 0; n < writes; n++) if (!tags.has(`p${worker}-w${n}`)) missing.push(`p${worker}-w${n}`);
			}
			console.log(
				`concurrency: ${processes} processes x ${writes} writes (sum +1, add a unique tag) on one profile: ` +
					`visits expected ${processes * writes}, found ${visits}; tags expected ${processes * writes}, ` +
					`found ${tags.size}, missing ${missing.length}; ${ms} ms ` +
					`(${Math.round((processes * writes * 1000) / ms)} writes/s; per process ${results.map((r) => r.ms).join('/')} ms)`,
			);
			expect(results.map((r) => r.states)).toEqual(Array(processes).fill({ MODIFIED: writes }));
			expect(visits).toBe(processes * writes);
			expect(missing).toEqual([]);
			expect(profile?.properties.tags).toHaveLength(processes * writes);
		} finally {
			await reopened.close();
		}
		expect(integrityCheck(path)).toEqual([{ integrity_check: 'ok' }]);
	}, 120_000);

	it('6 processes creating the same new identifiers at once make exactly one profile each', async () => {
		const processes = 6;
		const identifiers = 40;
		await engineAt(path).close(); // the schema exists before the race, as in production

		const { results, ms } = await runTogether(
			Array.from({ length: processes }, (_, worker) => ({ kind: 'createRace', path, identifiers, worker })),
		);

		const store = engineAt(path);
		try {
			let profiles = 0;
			let wrongVisits = 0;
			for (let n = 0; n < identifiers; n++) {
				const found = await store.findAllByIdentifier('DEFAULT', 'email', `race-${n}@example.com`, 10);
				profiles += found.length;
				if (found[0]?.properties.visits?.[0] !== processes) wrongVisits++;
			}
			const createdStates = results.flatMap((r) => r.created ?? []);
			console.log(
				`create race: ${processes} processes x ${identifiers} new identifiers: profiles expected ${identifiers}, ` +
					`found ${profiles}; CREATED answers expected ${identifiers}, found ${createdStates.length}; ` +
					`identifiers whose visits != ${processes}: ${wrongVisits}; ${ms} ms`,
			);
			expect(profiles).toBe(identifiers);
			expect(createdStates.sort((a, b) => a - b)).toEqual(Array.from({ length: identifiers }, (_, n) => n));
			expect(wrongVisits).toBe(0);
		} finally {
			await store.close();
		}
	}, 120_000);

	it('processes opening a brand-new file at once migrate it once', async () => {
		const processes = 6;
		const { results } = await runTogether(
			Array.from({ length: processes }, (_, worker) => ({ kind: 'createRace', path, identifiers: 1, worker })),
		);
		expect(results.flatMap((r) => r.created)).toEqual([0]);
		expect(integrityCheck(path)).toEqual([{ integrity_check: 'ok' }]);
	}, 60_000);

	it('a write acknowledged before SIGKILL is there after reopening', async () => {
		const marker = `m-${Date.now()}`;
		const email = 'durable@example.com';
		await killAfterAck({ kind: 'durableOnce', path, email, marker }, 1);

		expect(integrityCheck(path)).toEqual([{ integrity_check: 'ok' }]);
		const store = engineAt(path);
		try {
			const { profile } = await store.findByIdentifier('DEFAULT', 'email', email);
			expect(profile?.properties.marker).toEqual([marker]);
		} finally {
			await store.close();
		}
	}, 60_000);

	it('SIGKILL in the middle of a stream of writes loses no acknowledged write', async () => {
		const email = 'stream@example.com';
		let acknowledged = 0;
		for (const atLeast of [50, 120]) {
			acknowledged += await killAfterAck({ kind: 'durableStream', path, email }, atLeast);
			expect(integrityCheck(path)).toEqual([{ integrity_check: 'ok' }]);
			const store = engineAt(path);
			try {
				const visits = (await store.findByIdentifier('DEFAULT', 'email', email)).profile?.properties.visits?.[0];
				console.log(`durability: ${acknowledged} writes acknowledged before SIGKILL, ${visits} found after reopening`);
				expect(visits).toBeGreaterThanOrEqual(acknowledged);
				acknowledged = Number(visits); // the next round counts on from what is stored
			} finally {
				await store.close();
			}
		}
	}, 60_000);
});
