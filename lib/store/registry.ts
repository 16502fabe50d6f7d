/**
 * Which profile store a node uses, opened once per process and shared by every node and request.
 * Without a store credential it is the embedded SQLite file in the n8n user folder.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

import { ProfileWebhookError } from '../errors';
import type { ProfileStore } from './ProfileStore';
import { SqliteProfileStore, defaultStorePath } from './SqliteProfileStore';

export interface StoreSelection {
	kind: 'sqlite';
	/** Overrides the default file. */
	path?: string;
}

/** The n8n user folder as n8n resolves it: N8N_USER_FOLDER (or the home folder) + /.n8n */
export function n8nUserFolder(env: NodeJS.ProcessEnv = process.env): string {
	return join(env.N8N_USER_FOLDER || homedir(), '.n8n');
}

const open = new Map<string, ProfileStore>();

export function getProfileStore(
	selection: StoreSelection = { kind: 'sqlite' },
	env: NodeJS.ProcessEnv = process.env,
): ProfileStore {
	if (env.EXECUTIONS_MODE === 'queue') {
		throw new ProfileWebhookError(
			503,
			'STORE_UNAVAILABLE',
			'n8n runs in queue mode, where workers on other machines cannot share the embedded SQLite profile store: select a PostgreSQL profile store credential',
		);
	}
	const path = selection.path || defaultStorePath(n8nUserFolder(env));
	let store = open.get(path);
	if (!store) {
		store = new SqliteProfileStore(path);
		open.set(path, store);
	}
	return store;
}

/** Closes every store this process opened (tests, shutdown). */
export async function closeProfileStores(): Promise<void> {
	const stores = [...open.values()];
	open.clear();
	await Promise.all(stores.map((store) => store.close()));
}
