/**
 * Builds a profile store of `n` profiles quickly, for the size benchmark (part 2): one function,
 * so it can be swapped for the engine's bulk path (`importProfiles`) once that exists.
 *
 * Today's SqliteProfileStore has no bulk path and a million single transactions (each an fsync)
 * would take an hour, so this writes the store's own schema directly: the store creates the file
 * and runs its migrations, then profiles and their identifier index rows go in with large
 * transactions and `synchronous = OFF` (the file is thrown away after the run). The rows are
 * exactly what `create()` writes: one `profiles` row and one `identifiers` row per property value.
 * The result is checked through the store's own API before it is used.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** The profile every size uses: `email` (the identifier) and `visits`. */
export const seedEmail = (i) => `seed${i}@example.test`;

export async function buildStore(path, n, { dist, batchSize = 50_000 } = {}) {
	const { SqliteProfileStore } = await import(join(dist, 'lib', 'store', 'SqliteProfileStore.js'));
	const store = new SqliteProfileStore(path); // creates the file and the schema
	await store.close();

	const db = new DatabaseSync(path);
	db.exec('PRAGMA journal_mode = WAL');
	db.exec('PRAGMA synchronous = OFF');
	db.exec('PRAGMA cache_size = -200000'); // 200 MB while building
	const insertProfile = db.prepare(
		`INSERT INTO profiles (id, domain_group, legislation, created_at, updated_at, properties)
		 VALUES (?, 'DEFAULT', 'NONE', ?, ?, ?)`,
	);
	const insertIdentifier = db.prepare(
		`INSERT INTO identifiers (domain_group, property, value, created_at, profile_seq) VALUES ('DEFAULT', ?, ?, ?, ?)`,
	);
	const base = Date.parse('2026-01-01T00:00:00.000Z');
	for (let from = 0; from < n; from += batchSize) {
		db.exec('BEGIN');
		const to = Math.min(n, from + batchSize);
		for (let i = from; i < to; i++) {
			const created = new Date(base + i).toISOString();
			const email = seedEmail(i);
			const { lastInsertRowid } = insertProfile.run(
				randomUUID(),
				created,
				created,
				JSON.stringify({ email: [email], visits: [i % 1000] }),
			);
			insertIdentifier.run('email', email, created, lastInsertRowid);
			insertIdentifier.run('visits', String(i % 1000), created, lastInsertRowid);
		}
		db.exec('COMMIT');
	}
	db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
	db.close();

	// Checked through the store: a profile at both ends is found by its identifier.
	const check = new SqliteProfileStore(path);
	try {
		for (const i of [0, n - 1]) {
			const { profile } = await check.findByIdentifier('DEFAULT', 'email', seedEmail(i));
			if (profile?.properties.email?.[0] !== seedEmail(i)) throw new Error(`buildStore: profile ${i} not found through the store`);
		}
	} finally {
		await check.close();
	}
}
