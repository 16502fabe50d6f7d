/**
 * Where a PostgreSQL profile store lives and how to reach it: the `profileStoreApi` credential's
 * PostgreSQL fields as a plain object, turned into a `pg` pool configuration.
 */
import type { PoolConfig } from 'pg';

import { ProfileWebhookError } from '../../errors';

export type PostgresSsl = 'disable' | 'require' | 'verify-full';

export interface PostgresStoreConfig {
	host: string;
	/** Default 5432. */
	port?: number;
	database: string;
	user: string;
	password?: string;
	/** `disable` (default), `require` (encrypted, certificate not checked), `verify-full`. */
	ssl?: PostgresSsl;
	/** PEM, for `verify-full` against a private CA. */
	caCertificate?: string;
	/** The schema the store's tables live in (created when missing). Default `profile_webhooks`. */
	schema?: string;
	/** Connections per process. Default 10. */
	maxConnections?: number;
	/** How long to wait for a connection before answering 503. Default 5,000 ms. */
	connectTimeoutMs?: number;
}

export const DEFAULT_SCHEMA = 'profile_webhooks';
const DEFAULT_MAX_CONNECTIONS = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** A plain, unquoted identifier: what a user can type without surprises. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads `postgres://user:password@host:port/database?schema=...&sslmode=...` (the tests' and CI's
 * PROFILE_STORE_PG_URL) into a config.
 */
export function postgresConfigFromUrl(url: string, overrides: Partial<PostgresStoreConfig> = {}): PostgresStoreConfig {
	const parsed = new URL(url);
	if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
		throw configError(`the PostgreSQL URL must start with postgres://, not ${parsed.protocol}//`);
	}
	const sslmode = parsed.searchParams.get('sslmode');
	return {
		host: decodeURIComponent(parsed.hostname),
		port: parsed.port ? Number(parsed.port) : undefined,
		database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
		user: decodeURIComponent(parsed.username),
		password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
		ssl: sslmode === 'require' || sslmode === 'verify-full' ? sslmode : undefined,
		schema: parsed.searchParams.get('schema') ?? undefined,
		...overrides,
	};
}

function configError(message: string): ProfileWebhookError {
	return new ProfileWebhookError(400, 'CONFIGURATION_INVALID', `PostgreSQL profile store: ${message}`);
}

/** Every problem of a config, named by field (empty when it is usable). */
export function postgresConfigIssues(config: PostgresStoreConfig): string[] {
	const issues: string[] = [];
	if (!config.host?.trim()) issues.push('host is empty');
	if (!config.database?.trim()) issues.push('database is empty');
	if (!config.user?.trim()) issues.push('user is empty');
	const port = config.port ?? 5432;
	if (!Number.isInteger(port) || port < 1 || port > 65535) issues.push(`port ${String(config.port)} is not a TCP port`);
	const schema = config.schema ?? DEFAULT_SCHEMA;
	if (!SCHEMA_NAME.test(schema)) {
		issues.push(`schema ${JSON.stringify(schema)} must be lower-case letters, digits and _ (not starting with a digit), at most 63`);
	}
	if (config.ssl !== undefined && !['disable', 'require', 'verify-full'].includes(config.ssl)) {
		issues.push(`ssl ${JSON.stringify(config.ssl)} must be disable, require or verify-full`);
	}
	return issues;
}

export function checkPostgresConfig(config: PostgresStoreConfig): void {
	const issues = postgresConfigIssues(config);
	if (issues.length) throw configError(issues.join('; '));
}

/** The schema name, checked (safe to put in SQL between double quotes). */
export function schemaOf(config: PostgresStoreConfig): string {
	return config.schema ?? DEFAULT_SCHEMA;
}

/**
 * What identifies one store: the same server, database, user and schema share a pool in a process.
 * The password is left out (a changed password reaches the same data).
 */
export function postgresStoreKey(config: PostgresStoreConfig): string {
	return JSON.stringify([config.host, config.port ?? 5432, config.database, config.user, schemaOf(config), config.ssl ?? 'disable']);
}

export function poolConfig(config: PostgresStoreConfig): PoolConfig {
	checkPostgresConfig(config);
	const ssl =
		config.ssl === 'require'
			? { rejectUnauthorized: false }
			: config.ssl === 'verify-full'
				? { rejectUnauthorized: true, ...(config.caCertificate ? { ca: config.caCertificate } : {}) }
				: false;
	return {
		host: config.host,
		port: config.port ?? 5432,
		database: config.database,
		user: config.user,
		password: config.password ?? '',
		ssl,
		max: Math.max(1, Math.floor(config.maxConnections ?? DEFAULT_MAX_CONNECTIONS)),
		connectionTimeoutMillis: Math.max(1, Math.floor(config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)),
		idleTimeoutMillis: 30_000,
		keepAlive: true,
		application_name: 'n8n-nodes-profile-webhooks',
		// Every table is found in the store's schema; commits are acknowledged only once on disk
		// (DESIGN 2.1), whatever the server's default; a transaction left open by a stalled process
		// cannot hold its locks for ever.
		options: `-c search_path=${schemaOf(config)} -c synchronous_commit=on -c idle_in_transaction_session_timeout=60000`,
	};
}
