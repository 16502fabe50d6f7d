/**
 * Part 1: one store update (the trigger's change set) against a bare node:sqlite transaction that
 * does the same work with the same guarantees; the same on PostgreSQL when there is an adapter and
 * a server.
 * Part 2: lookup and update on a store of 10^4 profiles against one of 10^6 (built in bulk).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { buildStore, buildStoreCached, seedEmail, seedProfiles } from '../lib/buildStore.mjs';
import { compare, prng, row, unavailable } from '../lib/measure.mjs';
import { packagePostgresStore, packageStore, triggerChangeSet } from '../lib/subject.mjs';
import { withPostgres } from '../lib/postgres.mjs';

/**
 * The bare baseline: a profile is one JSON row keyed by its (indexed, unique) e-mail. An update is
 * BEGIN IMMEDIATE, read the row, apply the same change in plain JS, upsert the row, insert the
 * event row, write as many index rows as the package writes for the same update, COMMIT.
 * Same pragmas as the store: WAL, synchronous FULL, busy_timeout, secure_delete.
 */
export class BareSqlite {
	constructor(path, extraRows) {
		this.extraRows = extraRows;
		this.db = new DatabaseSync(path);
		this.db.exec('PRAGMA busy_timeout = 1000');
		this.db.exec('PRAGMA journal_mode = WAL');
		this.db.exec('PRAGMA synchronous = FULL');
		this.db.exec('PRAGMA secure_delete = ON');
		this.db.exec(`
			CREATE TABLE IF NOT EXISTS bare_profiles (seq INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, doc TEXT NOT NULL) STRICT;
			CREATE TABLE IF NOT EXISTS bare_events (seq INTEGER PRIMARY KEY, profile_seq INTEGER NOT NULL, date TEXT NOT NULL, data TEXT NOT NULL) STRICT;
			CREATE TABLE IF NOT EXISTS bare_index (property TEXT NOT NULL, value TEXT NOT NULL, profile_seq INTEGER NOT NULL,
				PRIMARY KEY (property, value, profile_seq)) STRICT, WITHOUT ROWID;
		`);
		this.select = this.db.prepare('SELECT seq, doc FROM bare_profiles WHERE email = ?');
		this.upsert = this.db.prepare(
			'INSERT INTO bare_profiles (email, doc) VALUES (?, ?) ON CONFLICT (email) DO UPDATE SET doc = excluded.doc RETURNING seq',
		);
		this.event = this.db.prepare('INSERT INTO bare_events (profile_seq, date, data) VALUES (?, ?, ?)');
		this.index = this.db.prepare('INSERT OR REPLACE INTO bare_index (property, value, profile_seq) VALUES (?, ?, ?)');
	}

	seed(n) {
		this.db.exec('BEGIN');
		for (let i = 0; i < n; i++) {
			this.upsert.get(seedEmail(i), JSON.stringify({ email: [seedEmail(i)], visits: [i % 1000] }));
		}
		this.db.exec('COMMIT');
	}

	update(i, email) {
		const change = triggerChangeSet(i, email);
		this.db.exec('BEGIN IMMEDIATE');
		try {
			const found = this.select.get(email);
			const doc = found ? JSON.parse(found.doc) : { email: [email] };
			doc.firstname = change.imports[0].values;
			doc.visits = [Number(doc.visits?.[0] ?? 0) + 1];
			const tags = doc.tags ?? [];
			for (const tag of change.imports[2].values) if (!tags.includes(tag)) tags.push(tag);
			doc.tags = tags;
			const { seq } = this.upsert.get(email, JSON.stringify(doc));
			this.event.run(seq, change.events[0].date, '{}');
			for (let k = 0; k < this.extraRows; k++) this.index.run(`p${k}`, `${i}`, seq);
			this.db.exec('COMMIT');
		} catch (error) {
			this.db.exec('ROLLBACK');
			throw error;
		}
	}

	lookup(email) {
		const found = this.select.get(email);
		return found && JSON.parse(found.doc);
	}

	close() {
		this.db.close();
	}
}

export async function run(options) {
	const { dist, sizes, roundMs, rounds, only } = options;
	const want = (id) => !only || only.includes(id);
	const rows = [];
	const notes = [];
	const dir = mkdtempSync(join(tmpdir(), 'profile-bench-store-'));
	const pkg = await packageStore(dist);
	try {
		const small = sizes.small;
		const storePath = join(dir, 'small.sqlite');
		const t0 = Date.now();
		await buildStore(storePath, small, { dist });
		notes.push(`built ${small} profiles with buildStore (importProfiles) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		const store = await pkg.open(storePath);
		const pick = prng(17);
		const randomEmail = (n) => seedEmail(Math.floor(pick() * n));

		// Rows one update writes in the package (profiles, identifiers, timeline events), so the
		// baseline writes as many.
		const before = pkg.rowsWritten(store);
		const calibration = 200;
		for (let i = 0; i < calibration; i++) await store.applyByIdentifier(triggerChangeSet(i, randomEmail(small)));
		const after = pkg.rowsWritten(store);
		const rowsPerUpdate = before === undefined ? 6 : (after - before) / calibration;
		const extraRows = Math.max(0, Math.round(rowsPerUpdate) - 2); // the bare one writes the profile row and the event row itself
		notes.push(`the package writes ${rowsPerUpdate.toFixed(2)} rows per update (profile, identifier index, timeline, change feed); the bare baseline ${2 + extraRows}`);

		if (want('1.sqlite')) {
			const bare = new BareSqlite(join(dir, 'bare.sqlite'), extraRows);
			bare.seed(small);
			const result = await compare({
				pkg: (i) => store.applyByIdentifier(triggerChangeSet(i, randomEmail(small))),
				base: (i) => bare.update(i, randomEmail(small)),
				roundMs,
				rounds,
			});
			// Pages each commit appends to the write-ahead log (and fsyncs): what the commit costs.
			const walPages = async (db, walFile, update) => {
				db.exec('PRAGMA wal_autocheckpoint = 0');
				db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
				const n = 200;
				for (let i = 0; i < n; i++) await update(i);
				const pageSize = db.prepare('PRAGMA page_size').get().page_size;
				const frames = (statSync(walFile).size - 32) / (pageSize + 24) / n;
				db.exec('PRAGMA wal_autocheckpoint = 1000');
				return Math.round(frames * 100) / 100;
			};
			const packageDb = store.store?.db; // private in TypeScript; read here only to count pages
			const walPagesPerUpdate = {
				package: packageDb ? await walPages(packageDb, `${storePath}-wal`, (i) => store.applyByIdentifier(triggerChangeSet(i, randomEmail(small)))) : undefined,
				baseline: await walPages(bare.db, join(dir, 'bare.sqlite-wal'), (i) => bare.update(i, randomEmail(small))),
			};
			notes.push(`WAL pages written per update: package ${walPagesPerUpdate.package}, bare baseline ${walPagesPerUpdate.baseline}`);
			bare.close();
			rows.push(
				row({
					id: '1.sqlite',
					part: '1 store update (SQLite)',
					name: `applyByIdentifier (trigger change set) vs bare node:sqlite transaction, ${small} profiles`,
					unit: 'updates/s',
					result,
					goal: { op: '>=', value: 0.5 },
					extra: { rowsPerUpdate, baselineRowsPerUpdate: 2 + extraRows, walPagesPerUpdate },
				}),
			);
		}

		if (want('1.postgres')) rows.push(...(await postgresRow(options, notes)));

		if (want('2.lookup') || want('2.update')) {
			const large = sizes.large;
			const largePath = join(dir, 'large.sqlite');
			const t1 = Date.now();
			const { built } = await buildStoreCached(largePath, large, { dist, cacheDir: options.cacheDir });
			notes.push(
				built
					? `built ${large} profiles with buildStore (importProfiles) in ${((Date.now() - t1) / 1000).toFixed(1)} s (kept in .cache/bench for the next runs)`
					: `${large} profiles: a copy of the store buildStore (importProfiles) built in an earlier run with the same engine code`,
			);
			const big = await pkg.open(largePath);
			// Lookups: random identifiers over each whole store.
			if (want('2.lookup')) {
				const result = await compare({
					pkg: () => big.findByIdentifier('DEFAULT', 'email', randomEmail(large)),
					base: () => store.findByIdentifier('DEFAULT', 'email', randomEmail(small)),
					roundMs,
					rounds,
				});
				rows.push(
					row({
						id: '2.lookup',
						part: '2 size: lookup',
						name: `findByIdentifier at ${large} vs ${small} profiles`,
						unit: 'lookups/s',
						result,
						goal: { op: '>=', value: 0.5 },
						note: 'ratio >= 0.5 means at most 2x slower at the larger size',
					}),
				);
			}
			if (want('2.update')) {
				const result = await compare({
					pkg: (i) => big.applyByIdentifier(triggerChangeSet(i, randomEmail(large))),
					base: (i) => store.applyByIdentifier(triggerChangeSet(i, randomEmail(small))),
					roundMs,
					rounds,
				});
				rows.push(
					row({
						id: '2.update',
						part: '2 size: update',
						name: `applyByIdentifier at ${large} vs ${small} profiles`,
						unit: 'updates/s',
						result,
						goal: { op: '>=', value: 0.5 },
						note: 'ratio >= 0.5 means at most 2x slower at the larger size',
					}),
				);
			}
			await big.close();
		}
		await store.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	return { rows, notes };
}

/** Part 1 on PostgreSQL: the package's adapter (when built) against a bare `pg` upsert. */
async function postgresRow(options, notes) {
	const id = '1.postgres';
	const part = '1 store update (PostgreSQL)';
	const name = 'PostgreSQL adapter vs bare pg transaction';
	const adapter = await packagePostgresStore(options.dist);
	if (!adapter) return [unavailable({ id, part, name, reason: 'no PostgreSQL adapter in dist/ yet (issue 12)' })];
	return await withPostgres(options, async (pg, url) => {
		if (!pg) return [unavailable({ id, part, name, reason: url })];
		const small = options.sizes.small;
		const store = await adapter.open(url);
		const client = new pg.Client({ connectionString: url });
		await client.connect();
		try {
			await client.query(`CREATE TABLE IF NOT EXISTS bare_profiles (seq BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, doc JSONB NOT NULL);
				CREATE TABLE IF NOT EXISTS bare_events (seq BIGSERIAL PRIMARY KEY, profile_seq BIGINT NOT NULL, date TIMESTAMPTZ NOT NULL, data JSONB NOT NULL)`);
			await client.query(
				`INSERT INTO bare_profiles (email, doc) SELECT 'seed' || i || '@example.test', jsonb_build_object('email', jsonb_build_array('seed' || i || '@example.test'), 'visits', jsonb_build_array(i % 1000))
				 FROM generate_series(0, $1::int - 1) AS i ON CONFLICT DO NOTHING`,
				[small],
			);
			await store.importProfiles(seedProfiles(Math.min(small, 2000)));
			const keys = Math.min(small, 2000);
			const pick = prng(23);
			const randomEmail = () => seedEmail(Math.floor(pick() * keys));
			const bare = async (i) => {
				const change = triggerChangeSet(i, randomEmail());
				await client.query('BEGIN');
				try {
					const email = change.identifier.value;
					const found = await client.query('SELECT seq, doc FROM bare_profiles WHERE email = $1 FOR UPDATE', [email]);
					const doc = found.rows[0]?.doc ?? { email: [email] };
					doc.firstname = change.imports[0].values;
					doc.visits = [Number(doc.visits?.[0] ?? 0) + 1];
					const tags = doc.tags ?? [];
					for (const tag of change.imports[2].values) if (!tags.includes(tag)) tags.push(tag);
					doc.tags = tags;
					const { rows } = await client.query(
						'INSERT INTO bare_profiles (email, doc) VALUES ($1, $2) ON CONFLICT (email) DO UPDATE SET doc = excluded.doc RETURNING seq',
						[email, doc],
					);
					await client.query('INSERT INTO bare_events (profile_seq, date, data) VALUES ($1, $2, $3)', [rows[0].seq, change.events[0].date, {}]);
					await client.query('COMMIT');
				} catch (error) {
					await client.query('ROLLBACK');
					throw error;
				}
			};
			const result = await compare({
				pkg: (i) => store.applyByIdentifier(triggerChangeSet(i, randomEmail())),
				base: bare,
				roundMs: options.roundMs,
				rounds: options.rounds,
			});
			notes.push(`PostgreSQL: ${url.replace(/:[^:@/]*@/, ':***@')}`);
			return [row({ id, part, name, unit: 'updates/s', result, goal: { op: '>=', value: 0.5 } })];
		} finally {
			await client.end();
			await store.close?.();
		}
	});
}
