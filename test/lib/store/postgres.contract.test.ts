/**
 * The ProfileEngine contract (contract.ts) over the PostgreSQL store: the same suite the SQLite
 * store passes. Each store gets a schema of its own in the test database.
 */
import { ProfileEngine } from '../../../lib/profiles/engine';
import { PostgresProfileStore } from '../../../lib/store/postgres';
import { describePostgres, sql, testConfig } from '../../helpers/postgres';
import { describeProfileStoreContract, type StoreHarness } from './contract';

async function makePostgresHarness(): Promise<StoreHarness> {
	const config = testConfig({ maxConnections: 6 });
	const opened: ProfileEngine[] = [];
	const open = async () => {
		const engine = new ProfileEngine(new PostgresProfileStore(config));
		opened.push(engine);
		return engine;
	};
	return {
		store: await open(),
		reopen: open,
		cleanup: async () => {
			for (const engine of opened) await engine.close();
			await sql(config, `DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
		},
	};
}

describePostgres('PostgreSQL', () => {
	describeProfileStoreContract('PostgreSQL (pg)', makePostgresHarness);
});
