/**
 * Which profile store the nodes use, opened once per process and shared by every node and request,
 * with the profile engine over it. Without a store credential it is the embedded SQLite file in the
 * n8n user folder.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

import { ProfileWebhookError } from '../errors';
import { ProfileEngine } from '../profiles/engine';
import { SqliteStore, defaultStorePath } from './sqlite/SqliteStore';

export interface StoreSelection {
	kind: 'sqlite';
	/** Overrides the default file. */
	path?: string;
}

/** The n8n user folder as n8n resolves it: N8N_USER_FOLDER (or the home folder) + /.n8n */
export function n8nUserFolder(env: NodeJS.ProcessEnv = process.env): string {
	return join(env.N8N_USER_FOLDER || homedir(), '.n8n');
}

const open = new Map<string, ProfileEngine>();

export function getProfileEngine(
	selection: StoreSelection = { kind: 'sqlite' },
	env: NodeJS.ProcessEnv = process.env,
): ProfileEngine {
	if (env.EXECUTIONS_MODE === 'queue') {
		throw new ProfileWebhookError(
			503,
			'STORE_UNAVAILABLE',
			'n8n runs in queue mode, where workers on other machines cannot share the embedded SQLite profile store: select a PostgreSQL profile store credential',
		);
	}
	const path = selection.path || defaultStorePath(n8nUserFolder(env));
	let engine = open.get(path);
	if (!engine) {
		engine = new ProfileEngine(new SqliteStore(path));
		open.set(path, engine);
	}
	return engine;
}

/** Closes every store this process opened (tests, shutdown). */
export async function closeProfileStores(): Promise<void> {
	const engines = [...open.values()];
	open.clear();
	await Promise.all(engines.map((engine) => engine.store.close()));
}
