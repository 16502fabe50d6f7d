/**
 * Which profile store the nodes use, opened once per process per configuration and shared by every
 * node and request, with the profile engine over it. Without a store credential it is the embedded SQLite file in the n8n user
 * folder; the `profileStoreApi` credential can choose another file or PostgreSQL.
 *
 * n8n in queue mode (EXECUTIONS_MODE=queue: webhook processes and workers, often on other
 * machines) or multi-main (N8N_MULTI_MAIN_SETUP_ENABLED=true) cannot share one SQLite file: the
 * embedded store is refused there, with a message that says what to configure. The trigger checks
 * it at activation (storeRefusal), so a workflow does not activate only to answer 503 every call.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

import { ProfileWebhookError } from '../errors';
import { ProfileEngine } from '../profiles/engine';
import { PostgresProfileStore } from './postgres/PostgresProfileStore';
import { checkPostgresConfig, postgresStoreKey, type PostgresSsl, type PostgresStoreConfig } from './postgres/config';
import type { ProfileStore } from './ProfileStore';
import { SqliteStore, defaultStorePath } from './sqlite/SqliteStore';

export type StoreSelection = { kind: 'embedded'; path?: string } | { kind: 'postgres'; config: PostgresStoreConfig };

/** The n8n user folder as n8n resolves it: N8N_USER_FOLDER (or the home folder) + /.n8n */
export function n8nUserFolder(env: NodeJS.ProcessEnv = process.env): string {
	return join(env.N8N_USER_FOLDER || homedir(), '.n8n');
}

/** The credential's fields (decrypted, as n8n hands them to a node) as a selection. */
export function storeSelectionFromCredential(data: Record<string, unknown> | undefined): StoreSelection {
	if (!data || data.store !== 'postgres') {
		const path = typeof data?.filePath === 'string' ? data.filePath.trim() : '';
		return path ? { kind: 'embedded', path } : { kind: 'embedded' };
	}
	const text = (name: string): string | undefined => {
		const value = data[name];
		return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
	};
	const number = (name: string): number | undefined => {
		const value = data[name];
		return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
	};
	return {
		kind: 'postgres',
		config: {
			host: text('host') ?? '',
			port: number('port'),
			database: text('database') ?? '',
			user: text('user') ?? '',
			password: typeof data.password === 'string' ? data.password : undefined,
			ssl: (text('ssl') as PostgresSsl | undefined) ?? 'disable',
			caCertificate: text('caCertificate'),
			schema: text('schema'),
			maxConnections: number('maxConnections'),
		},
	};
}

/** Why this process must not use `selection` (undefined when it may). */
export function storeRefusal(selection: StoreSelection, env: NodeJS.ProcessEnv = process.env): string | undefined {
	if (selection.kind !== 'embedded') return undefined;
	const setup =
		env.EXECUTIONS_MODE === 'queue'
			? 'n8n runs in queue mode (EXECUTIONS_MODE=queue)'
			: env.N8N_MULTI_MAIN_SETUP_ENABLED === 'true'
				? 'n8n runs with several main processes (N8N_MULTI_MAIN_SETUP_ENABLED=true)'
				: undefined;
	if (!setup) return undefined;
	return `${setup}, where processes on other machines cannot share the embedded SQLite profile store: create a "Profile Store API" credential with Store "PostgreSQL" and select it in this node`;
}

/** Throws what storeRefusal says, and any problem of a PostgreSQL configuration, before opening. */
export function checkStoreSelection(selection: StoreSelection, env: NodeJS.ProcessEnv = process.env): void {
	const refusal = storeRefusal(selection, env);
	if (refusal) throw new ProfileWebhookError(503, 'STORE_UNAVAILABLE', refusal);
	if (selection.kind === 'postgres') checkPostgresConfig(selection.config);
}

const open = new Map<string, ProfileEngine>();

function selectionKey(selection: StoreSelection, env: NodeJS.ProcessEnv): string {
	return selection.kind === 'postgres'
		? `postgres:${postgresStoreKey(selection.config)}`
		: `embedded:${selection.path || defaultStorePath(n8nUserFolder(env))}`;
}

function openStore(selection: StoreSelection, env: NodeJS.ProcessEnv): ProfileStore {
	if (selection.kind === 'postgres') {
		// An idle connection the server closed is dropped by the pool and replaced on next use.
		return new PostgresProfileStore(selection.config, { onIdleError: () => undefined });
	}
	return new SqliteStore(selection.path || defaultStorePath(n8nUserFolder(env)));
}

/** The engine over the selected store; the store is opened on first use in this process. */
export function getProfileEngine(
	selection: StoreSelection = { kind: 'embedded' },
	env: NodeJS.ProcessEnv = process.env,
): ProfileEngine {
	checkStoreSelection(selection, env);
	const key = selectionKey(selection, env);
	let engine = open.get(key);
	if (!engine) {
		engine = new ProfileEngine(openStore(selection, env));
		open.set(key, engine);
	}
	return engine;
}

/** Closes every store this process opened (tests, shutdown). */
export async function closeProfileStores(): Promise<void> {
	const engines = [...open.values()];
	open.clear();
	await Promise.all(engines.map((engine) => engine.store.close()));
}
