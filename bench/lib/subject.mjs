/**
 * What the store benchmarks drive, in one place: the profile engine over the SQLite adapter as the
 * nodes use it (lib/store/registry), the change set the Profile Webhook Trigger hands it, and how to
 * count the rows one update writes.
 */
import { join } from 'node:path';

/** The trigger's change set for request `i` on `email`: what handleProfileRequest passes the store. */
export function triggerChangeSet(i, email, receivedAt = new Date().toISOString()) {
	return {
		domainGroup: 'DEFAULT',
		identifier: { property: 'email', value: email },
		create: true,
		objectives: [],
		source: 'trigger',
		imports: [
			{ property: 'firstname', mode: 'set', values: [`Name ${i}`] },
			{ property: 'visits', mode: 'sum', values: [1] },
			{ property: 'tags', mode: 'add', values: ['bench', `t${i % 7}`] },
		],
		events: [{ eventType: 'webhook_received', date: receivedAt, data: {} }],
	};
}

/**
 * The package's store, opened as the nodes open it: `new ProfileEngine(new SqliteStore(path))`
 * (registry defaults: WAL, synchronous FULL), with the identifier property indexed as the trigger
 * does at activation.
 */
export async function packageStore(dist) {
	const { ProfileEngine } = await import(join(dist, 'lib', 'profiles', 'engine.js'));
	const { SqliteStore } = await import(join(dist, 'lib', 'store', 'sqlite', 'SqliteStore.js'));
	return {
		label: 'ProfileEngine over SqliteStore',
		open: async (path) => {
			const engine = new ProfileEngine(new SqliteStore(path));
			await engine.ensureIndexed(['email']);
			return engine;
		},
		/** Rows inserted, updated or deleted so far on the store's connection (undefined if hidden). */
		rowsWritten: (engine) => {
			const db = engine.store.db; // private in TypeScript; read here only to count rows
			return db ? Number(db.prepare('SELECT total_changes() AS n').get().n) : undefined;
		},
	};
}

/** The PostgreSQL adapter of the build (lib/store/postgres), over the engine. */
export async function packagePostgresStore(dist) {
	const file = join(dist, 'lib', 'store', 'postgres', 'index.js');
	const { existsSync } = await import('node:fs');
	if (!existsSync(file)) return undefined;
	const { PostgresProfileStore, postgresConfigFromUrl } = await import(file);
	const { ProfileEngine } = await import(join(dist, 'lib', 'profiles', 'engine.js'));
	return {
		label: 'ProfileEngine over the PostgreSQL adapter',
		open: async (url) => {
			const engine = new ProfileEngine(new PostgresProfileStore(postgresConfigFromUrl(url)));
			await engine.ensureIndexed(['email']);
			return engine;
		},
	};
}
