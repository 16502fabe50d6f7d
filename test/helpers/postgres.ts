/**
 * PostgreSQL for the store tests: the server the Jest global set-up provides
 * (test/helpers/postgres-global.js), a fresh schema per store, and private clusters for tests that
 * stop and start their own server.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import { postgresConfigFromUrl, type PostgresStoreConfig } from '../../lib/store/postgres';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'services', 'postgres.sh');

export const PG_URL = process.env.PROFILE_STORE_PG_URL;

/**
 * `describe` when PostgreSQL is there; otherwise skipped (the global set-up has already failed the
 * run under CI=true, so in CI this never skips).
 */
export const describePostgres: jest.Describe = PG_URL ? describe : describe.skip;

/** A schema name nobody else uses. */
export function freshSchema(prefix = 't'): string {
	return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export function testConfig(overrides: Partial<PostgresStoreConfig> = {}): PostgresStoreConfig {
	if (!PG_URL) throw new Error('PROFILE_STORE_PG_URL is not set');
	return postgresConfigFromUrl(PG_URL, { schema: freshSchema(), ...overrides });
}

/** Runs one SQL statement on a connection of its own (assertions look at the tables directly). */
export async function sql<R extends object = Record<string, unknown>>(
	config: PostgresStoreConfig,
	text: string,
	params: unknown[] = [],
): Promise<R[]> {
	const client = new Client({
		host: config.host,
		port: config.port,
		database: config.database,
		user: config.user,
		password: config.password,
	});
	await client.connect();
	try {
		await client.query(`SET search_path = "${config.schema}"`);
		return (await client.query<R>(text, params)).rows;
	} finally {
		await client.end();
	}
}

function parseEnvLines(text: string): Record<string, string> {
	const env: Record<string, string> = {};
	for (const line of text.split('\n')) {
		const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
		if (match) env[match[1]] = match[2];
	}
	return env;
}

/** A PostgreSQL cluster of a test's own, which the test may stop and start again (same port). */
export class PrivateCluster {
	readonly dir = mkdtempSync(join(tmpdir(), 'profile-store-pg-private-'));
	port: number | undefined;
	url: string | undefined;

	start(): string {
		const out = execFileSync('bash', [SCRIPT, 'start', this.dir, ...(this.port ? [String(this.port)] : [])], {
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const env = parseEnvLines(out);
		this.port = Number(env.PGPORT);
		this.url = env.PROFILE_STORE_PG_URL;
		return this.url;
	}

	stop(): void {
		execFileSync('bash', [SCRIPT, 'stop', this.dir], { stdio: 'ignore' });
	}

	remove(): void {
		this.stop();
		rmSync(this.dir, { recursive: true, force: true });
	}
}
