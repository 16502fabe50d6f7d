import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { ProfileEngine } from '../../../lib/profiles/engine';
import { SqliteStore, defaultStorePath, openSqliteStore, type SqliteStoreOptions } from '../../../lib/store/sqlite/SqliteStore';
import {
	SQLITE_MIGRATIONS,
	SQLITE_SCHEMA_VERSION,
	migrateSqlite,
	readSchemaVersion,
	type SqliteMigration,
} from '../../../lib/store/sqlite/migrations';
import { StoreUnavailableError } from '../../../lib/store/StoreUnavailableError';
import { describeProfileStoreContract, type StoreHarness } from './contract';

function tempDir(): string {
	return mkdtempSync(join(tmpdir(), 'profile-store-test-'));
}

async function makeSqliteHarness(): Promise<StoreHarness & { path: string }> {
	const dir = tempDir();
	const path = join(dir, 'nested', 'profiles.sqlite');
	const opened: ProfileEngine[] = [];
	const open = async () => {
		const store = new ProfileEngine(await openSqliteStore(path));
		opened.push(store);
		return store;
	};
	return {
		path,
		store: await open(),
		reopen: open,
		cleanup: async () => {
			for (const store of opened) await store.close();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

describeProfileStoreContract('SQLite (node:sqlite)', makeSqliteHarness);

/** The engine over a SQLite store at `path`. */
function engineAt(path: string, options: SqliteStoreOptions = {}): ProfileEngine {
	return new ProfileEngine(new SqliteStore(path, options));
}

describe('SqliteStore', () => {
	const dirs: string[] = [];
	const stores: Array<{ close(): Promise<void> }> = [];
	const newDir = () => {
		const dir = tempDir();
		dirs.push(dir);
		return dir;
	};
	const open = async (path: string) => {
		const store = new ProfileEngine(await openSqliteStore(path));
		stores.push(store);
		return store;
	};

	afterEach(async () => {
		for (const store of stores.splice(0)) await store.close();
		for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
	});

	it('lives in <userFolder>/profile-webhooks/profiles.sqlite by default', () => {
		expect(defaultStorePath('/home/node/.n8n')).toBe('/home/node/.n8n/profile-webhooks/profiles.sqlite');
	});

	it('makes its directory, and its file readable by its owner only', async () => {
		const path = defaultStorePath(join(newDir(), 'user-folder'));
		await open(path);
		expect(existsSync(path)).toBe(true);
		expect(statSync(path).mode & 0o777).toBe(0o600);
		// The constructor does the same, for callers that open it directly.
		const direct = new SqliteStore(join(newDir(), 'a', 'b', 'profiles.sqlite'));
		stores.push(direct);
		expect(existsSync(direct.path)).toBe(true);
	});

	it('runs in WAL mode with synchronous FULL and a busy timeout', async () => {
		const path = join(newDir(), 'profiles.sqlite');
		await open(path);
		const db = new DatabaseSync(path);
		try {
			expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
		} finally {
			db.close();
		}
		// Per-connection settings: read them through the store's own connection.
		const store = new SqliteStore(path, { busyTimeoutMs: 2500 });
		stores.push(store);
		const connection = (store as unknown as { db: DatabaseSync }).db; // private, read for this check only
		expect(connection.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 }); // 2 = FULL
		expect(connection.prepare('PRAGMA busy_timeout').get()).toEqual({ timeout: 2500 });
	});

	describe('schema migrations', () => {
		it('a new store is at the current schema version', async () => {
			const path = join(newDir(), 'profiles.sqlite');
			await open(path);
			const db = new DatabaseSync(path);
			try {
				expect(readSchemaVersion(db)).toBe(SQLITE_SCHEMA_VERSION);
				expect(SQLITE_SCHEMA_VERSION).toBe(SQLITE_MIGRATIONS.length);
				const tables = db
					.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
					.all()
					.map((r) => r.name);
				expect(tables).toEqual(
					expect.arrayContaining(['identifiers', 'profiles', 'sent_snapshots', 'timeline_events']),
				);
			} finally {
				db.close();
			}
		});

		it('upgrades a file written at every older version in place, keeping its data', async () => {
			for (let version = 0; version < SQLITE_SCHEMA_VERSION; version++) {
				const path = join(newDir(), 'profiles.sqlite');
				const db = new DatabaseSync(path);
				migrateSqlite(db, SQLITE_MIGRATIONS.slice(0, version));
				db.exec("CREATE TABLE IF NOT EXISTS keep_me (x TEXT); INSERT INTO keep_me VALUES ('still here')");
				expect(readSchemaVersion(db)).toBe(version);
				db.close();

				const store = await open(path);
				const created = await store.create({ properties: { email: ['ann@example.com'] } });
				const check = new DatabaseSync(path);
				try {
					expect(readSchemaVersion(check)).toBe(SQLITE_SCHEMA_VERSION);
					expect(check.prepare('SELECT x FROM keep_me').all()).toEqual([{ x: 'still here' }]);
				} finally {
					check.close();
				}
				expect((await store.get(created.id))?.properties).toEqual({ email: ['ann@example.com'] });
			}
		});

		it('applies a later migration to an existing store once, keeping its profiles', async () => {
			const path = join(newDir(), 'profiles.sqlite');
			const store = await open(path);
			const created = await store.create({ properties: { email: ['ann@example.com'] } });
			await store.close();

			const next: SqliteMigration = {
				version: SQLITE_SCHEMA_VERSION + 1,
				description: 'a later release adds a column',
				sql: 'ALTER TABLE profiles ADD COLUMN note TEXT',
			};
			const db = new DatabaseSync(path);
			try {
				expect(migrateSqlite(db, [...SQLITE_MIGRATIONS, next])).toEqual({
					from: SQLITE_SCHEMA_VERSION,
					to: SQLITE_SCHEMA_VERSION + 1,
				});
				expect(migrateSqlite(db, [...SQLITE_MIGRATIONS, next])).toEqual({
					from: SQLITE_SCHEMA_VERSION + 1,
					to: SQLITE_SCHEMA_VERSION + 1,
				});
				expect(db.prepare('SELECT id, note FROM profiles').all()).toEqual([{ id: created.id, note: null }]);
			} finally {
				db.close();
			}
		});

		it('a failing migration leaves the file at its old version', () => {
			const path = join(newDir(), 'profiles.sqlite');
			const db = new DatabaseSync(path);
			try {
				migrateSqlite(db);
				const broken: SqliteMigration = { version: SQLITE_SCHEMA_VERSION + 1, description: 'broken', sql: 'CREATE TABLE x (a); SELEC oops' };
				expect(() => migrateSqlite(db, [...SQLITE_MIGRATIONS, broken])).toThrow();
				expect(readSchemaVersion(db)).toBe(SQLITE_SCHEMA_VERSION);
				expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'x'").get()).toBeUndefined();
			} finally {
				db.close();
			}
		});

		it('refuses a file from a newer release', async () => {
			const path = join(newDir(), 'profiles.sqlite');
			await (await open(path)).close();
			const db = new DatabaseSync(path);
			db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
			db.close();
			expect(() => new SqliteStore(path)).toThrow(StoreUnavailableError);
			expect(() => new SqliteStore(path)).toThrow(/newer than this release/);
		});
	});

	it('answers 503 STORE_UNAVAILABLE once closed or when the file cannot be opened', async () => {
		const path = join(newDir(), 'profiles.sqlite');
		const store = await open(path);
		await store.close();
		await expect(store.get('x')).rejects.toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });

		const notADatabase = join(newDir(), 'garbage.sqlite');
		writeFileSync(notADatabase, 'this is not a database'.repeat(100));
		expect(() => new SqliteStore(notADatabase)).toThrow(StoreUnavailableError);
	});

	describe('another process holding the write lock', () => {
		function holdWriteLock(path: string): DatabaseSync {
			const other = new DatabaseSync(path);
			other.exec('BEGIN IMMEDIATE');
			return other;
		}

		it('waits for it and then writes', async () => {
			const path = join(newDir(), 'profiles.sqlite');
			const store = engineAt(path, { busyTimeoutMs: 20, maxBusyWaitMs: 5000 });
			stores.push(store);
			const other = holdWriteLock(path);
			const released = new Promise<void>((resolve) =>
				setTimeout(() => {
					other.exec('COMMIT');
					other.close();
					resolve();
				}, 300),
			);
			const started = Date.now();
			const result = await store.applyByIdentifier({
				identifier: { property: 'email', value: 'patient@example.com' },
				create: true,
			});
			await released;
			expect(result.state).toBe('CREATED');
			expect(Date.now() - started).toBeGreaterThanOrEqual(250);
		});

		it('gives up after the bound with 503 STORE_UNAVAILABLE, having written nothing', async () => {
			const path = join(newDir(), 'profiles.sqlite');
			const store = engineAt(path, { busyTimeoutMs: 20, maxBusyWaitMs: 200 });
			stores.push(store);
			await store.ensureIndexed(['email']); // as the trigger does at activation
			const other = holdWriteLock(path);
			try {
				await expect(
					store.applyByIdentifier({ identifier: { property: 'email', value: 'late@example.com' }, create: true }),
				).rejects.toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE', headers: { 'Retry-After': '1' } });
				// Readers are not blocked by a writer (WAL).
				expect(await store.findByIdentifier('DEFAULT', 'email', 'late@example.com')).toEqual({
					profile: undefined,
					ambiguous: false,
				});
			} finally {
				other.exec('ROLLBACK');
				other.close();
			}
		});
	});

	it('refuses arguments that are not what the contract says, as validation errors', async () => {
		const store = await open(join(newDir(), 'profiles.sqlite'));
		const loose = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
		await expect(loose.get(undefined)).rejects.toMatchObject({ status: 422 });
		await expect(loose.applyToProfile('', [])).rejects.toMatchObject({ status: 422 });
		await expect(loose.setSentSnapshot('goal', 'id', null)).rejects.toMatchObject({ status: 422 });
		await expect(
			loose.applyByIdentifier({ identifier: { property: 'email', value: 'a@example.com' }, legislation: '' }),
		).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST' });
	});

	it('erasing leaves no copy of the profile in the database files', async () => {
		const path = join(newDir(), 'profiles.sqlite');
		const store = await open(path);
		const marker = 'forget-me-4c1d@example.com';
		const { id } = await store.create({
			properties: { email: [marker], note: [`${marker} long text `.repeat(20)] },
			events: [{ eventType: 'visit', data: { email: marker } }],
		});
		for (let i = 0; i < 5; i++) {
			await store.applyToProfile(id, [{ property: 'visits', mode: 'sum', values: [1] }]);
		}
		await store.setSentSnapshot('goal', id, { email: [marker] });
		await store.create({ properties: { email: ['someone-else@example.com'] } });
		const files = [path, `${path}-wal`];
		const holding = () => files.filter((file) => existsSync(file) && readFileSync(file).includes(Buffer.from(marker)));
		expect(holding().length).toBeGreaterThan(0); // the check below would mean nothing otherwise

		expect(await store.erase(id)).toBe(true);
		expect(holding()).toEqual([]);
	});

	it('looks profiles up through indexes only (work per request stays flat as the store grows)', async () => {
		const path = join(newDir(), 'profiles.sqlite');
		await open(path);
		const db = new DatabaseSync(path);
		try {
			const plan = (sql: string) =>
				db
					.prepare(`EXPLAIN QUERY PLAN ${sql}`)
					.all()
					.map((r) => String(r.detail))
					.join(' | ');
			const lookup = plan(
				`SELECT p.id FROM identifiers i JOIN profiles p ON p.seq = i.profile_seq
				 WHERE i.domain_group = 'D' AND i.property = 'email' AND i.value = 'x'
				 ORDER BY i.created_at, i.profile_seq LIMIT 2`,
			);
			expect(lookup).toMatch(/SEARCH i USING PRIMARY KEY/);
			expect(lookup).toMatch(/SEARCH p USING INTEGER PRIMARY KEY/);
			expect(lookup).not.toMatch(/SCAN|TEMP B-TREE/);
			const timeline = plan('SELECT id FROM timeline_events WHERE profile_seq = 1 ORDER BY date, seq');
			expect(timeline).toMatch(/SEARCH timeline_events USING (COVERING )?INDEX timeline_events_by_date/);
			expect(timeline).not.toMatch(/TEMP B-TREE/);
			const cap = plan(
				'SELECT seq FROM timeline_events WHERE profile_seq = 1 ORDER BY date DESC, seq DESC LIMIT -1 OFFSET 250',
			);
			expect(cap).not.toMatch(/SCAN|TEMP B-TREE/);
		} finally {
			db.close();
		}
	});
});
