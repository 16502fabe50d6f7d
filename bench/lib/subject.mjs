/**
 * What the store benchmarks drive, in one place: the package's store as the nodes use it, the
 * change set the Profile Webhook Trigger hands it, and how to count the rows one update writes.
 * When the engine rewrite lands (ProfileEngine over a store adapter), only this file changes.
 */
import { join } from 'node:path';

/** The trigger's change set for request `i` on `email`: what handleProfileRequest passes the store. */
export function triggerChangeSet(i, email, receivedAt = new Date().toISOString()) {
	return {
		domainGroup: 'DEFAULT',
		identifier: { property: 'email', value: email },
		create: true,
		legislation: undefined,
		// The trigger always passes its consent check; with no objectives it says yes at once.
		precondition: () => undefined,
		imports: [
			{ property: 'firstname', mode: 'set', values: [`Name ${i}`] },
			{ property: 'visits', mode: 'sum', values: [1] },
			{ property: 'tags', mode: 'add', values: ['bench', `t${i % 7}`] },
		],
		events: [{ eventType: 'webhook_received', date: receivedAt, data: {} }],
	};
}

/** The package's store, opened as the nodes open it (registry defaults: WAL, synchronous FULL). */
export async function packageStore(dist) {
	const { SqliteProfileStore } = await import(join(dist, 'lib', 'store', 'SqliteProfileStore.js'));
	return {
		label: 'SqliteProfileStore',
		open: (path) => new SqliteProfileStore(path),
		/** Rows inserted, updated or deleted so far on the store's connection (undefined if hidden). */
		rowsWritten: (store) => {
			const db = store.db; // private in TypeScript; read here only to count rows
			return db ? Number(db.prepare('SELECT total_changes() AS n').get().n) : undefined;
		},
	};
}

/** The PostgreSQL adapter, when the build has one (issue 12); undefined otherwise. */
export async function packagePostgresStore(dist) {
	const candidates = [
		join(dist, 'lib', 'store', 'postgres', 'PostgresProfileStore.js'),
		join(dist, 'lib', 'store', 'PostgresProfileStore.js'),
	];
	const { existsSync } = await import('node:fs');
	const file = candidates.find((f) => existsSync(f));
	if (!file) return undefined;
	const mod = await import(file);
	const open = mod.openPostgresProfileStore ?? (mod.PostgresProfileStore && ((url) => new mod.PostgresProfileStore(url)));
	return open ? { label: 'PostgresProfileStore', open } : undefined;
}
