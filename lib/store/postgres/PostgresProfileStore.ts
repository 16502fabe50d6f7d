/**
 * The PostgreSQL profile store (DESIGN 2.1): the ProfileStore port on a `pg` pool, for n8n in queue
 * mode or on several machines.
 *
 * - Opening creates the pool only; the schema is migrated on first use (and again after a failed
 *   attempt), so a database that is down when n8n starts does not keep the store down.
 * - `write(work)`: BEGIN (READ COMMITTED) ... COMMIT on one connection; deadlocks and serialisation
 *   failures run `work` again from the start (bounded, jittered); an unreachable server, a lost
 *   connection or a pool that stays exhausted is a StoreUnavailableError (503, nothing written).
 * - Commits use synchronous_commit = on: acknowledged means on disk.
 */
import { Pool, type PoolClient } from 'pg';

import type { ProfileStore, StoreTransaction } from '../ProfileStore';
import { StoreUnavailableError } from '../StoreUnavailableError';
import { checkPostgresConfig, poolConfig, schemaOf, type PostgresStoreConfig } from './config';
import { describe, isRetryable, isUnavailable } from './errors';
import { migratePostgres } from './migrations';
import { PostgresTransaction } from './PostgresTransaction';

const MAX_ATTEMPTS = 20;

export interface PostgresStoreEvents {
	/** A pool error outside any request (an idle connection dropped): logged, never thrown. */
	onIdleError?: (error: Error) => void;
}

/** Grows from 5 ms to 200 ms, jittered so competing writers do not retry in step. */
function backoffMs(attempt: number): number {
	return Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
}

export class PostgresProfileStore implements ProfileStore {
	readonly kind = 'postgres';
	readonly schema: string;
	private readonly pool: Pool;
	private readonly where: string;
	private migrated: Promise<void> | undefined;
	private closed = false;

	constructor(config: PostgresStoreConfig, events: PostgresStoreEvents = {}) {
		checkPostgresConfig(config);
		this.schema = schemaOf(config);
		this.where = `${config.host}:${config.port ?? 5432}/${config.database} (schema ${this.schema})`;
		this.pool = new Pool(poolConfig(config));
		// Without a listener, an idle connection the server drops would crash the n8n process.
		this.pool.on('error', (error) => events.onIdleError?.(error));
	}

	async write<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		return await this.transaction('BEGIN', true, work);
	}

	async read<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		return await this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', false, work);
	}

	/** PostgreSQL keeps dead rows until VACUUM: erased profiles' rows are reclaimed here. */
	async scrub(): Promise<void> {
		try {
			const client = await this.connect();
			try {
				await client.query('VACUUM profiles, identifiers, timeline_events, change_feed, sent_snapshots');
			} finally {
				client.release();
			}
		} catch {
			// best effort: autovacuum reclaims the rows later
		}
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await this.pool.end();
	}

	/** Migrates once per store (again after a failure). */
	async ready(): Promise<void> {
		this.migrated ??= (async () => {
			const client = await this.connect();
			try {
				await migratePostgres(client, this.schema);
			} catch (error) {
				throw this.unavailable('cannot prepare', error);
			} finally {
				client.release();
			}
		})().catch((error: unknown) => {
			this.migrated = undefined;
			throw error;
		});
		await this.migrated;
	}

	private async transaction<T>(begin: string, writable: boolean, work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		await this.ready();
		for (let attempt = 1; ; attempt++) {
			const client = await this.connect();
			const tx = new PostgresTransaction(client, writable, this.schema);
			let broken = false;
			// The server can end a checked-out connection between two statements (shutdown, admin
			// terminate); pg then emits 'error' on the client, which would crash n8n unheard. The next
			// statement fails too, and that is where it is answered.
			const onError = (): void => {
				broken = true;
			};
			client.on('error', onError);
			try {
				await client.query(begin);
				let result: T;
				try {
					result = await work(tx);
				} catch (error) {
					if (tx.poisoned === undefined) throw error;
					throw tx.poisoned;
				}
				if (tx.poisoned !== undefined) throw tx.poisoned; // work caught it (a savepoint): never commit
				await client.query('COMMIT');
				return result;
			} catch (error) {
				broken ||= isUnavailable(error);
				if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
				if (isRetryable(error) && attempt < MAX_ATTEMPTS) {
					await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
					continue;
				}
				if (isRetryable(error)) {
					throw new StoreUnavailableError(
						`the PostgreSQL profile store kept conflicting with other writers (${describe(error)}); retry later`,
						error,
					);
				}
				if (broken) throw this.unavailable('lost the connection to', error);
				throw error;
			} finally {
				// A connection in an unknown state is destroyed, never handed to the next request.
				client.off('error', onError);
				client.release(broken ? true : undefined);
			}
		}
	}

	private async connect(): Promise<PoolClient> {
		try {
			return await this.connectRaw();
		} catch (error) {
			throw this.unavailable('cannot reach', error);
		}
	}

	private async connectRaw(): Promise<PoolClient> {
		if (this.closed) throw new StoreUnavailableError('the profile store is closed');
		return await this.pool.connect();
	}

	private unavailable(what: string, error: unknown): StoreUnavailableError {
		if (error instanceof StoreUnavailableError) return error;
		return new StoreUnavailableError(`${what} the PostgreSQL profile store at ${this.where}: ${describe(error)}`, error);
	}
}
