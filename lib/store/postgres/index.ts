export { PostgresProfileStore, type PostgresStoreEvents } from './PostgresProfileStore';
export {
	DEFAULT_SCHEMA,
	checkPostgresConfig,
	postgresConfigFromUrl,
	postgresConfigIssues,
	postgresStoreKey,
	type PostgresSsl,
	type PostgresStoreConfig,
} from './config';
export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, migratePostgres } from './migrations';
