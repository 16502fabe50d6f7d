import { closeProfileStores, getProfileEngine, storeRefusal, storeSelectionFromCredential } from '../../../lib/store/registry';

afterAll(async () => {
	await closeProfileStores();
});

describe('store registry', () => {
	it('reads the credential: embedded by default, with an optional file, or PostgreSQL', () => {
		expect(storeSelectionFromCredential(undefined)).toEqual({ kind: 'embedded' });
		expect(storeSelectionFromCredential({ store: 'embedded', filePath: '  ' })).toEqual({ kind: 'embedded' });
		expect(storeSelectionFromCredential({ store: 'embedded', filePath: '/data/p.sqlite' })).toEqual({ kind: 'embedded', path: '/data/p.sqlite' });
		expect(
			storeSelectionFromCredential({
				store: 'postgres',
				host: ' db ',
				port: 5433,
				database: 'cdp',
				user: 'n8n',
				password: 's3cret',
				ssl: 'verify-full',
				caCertificate: '',
				schema: 'profiles',
				maxConnections: 4,
			}),
		).toEqual({
			kind: 'postgres',
			config: {
				host: 'db',
				port: 5433,
				database: 'cdp',
				user: 'n8n',
				password: 's3cret',
				ssl: 'verify-full',
				caCertificate: undefined,
				schema: 'profiles',
				maxConnections: 4,
			},
		});
	});

	it('refuses the embedded store in queue mode and multi-main only', () => {
		expect(storeRefusal({ kind: 'embedded' }, {})).toBeUndefined();
		expect(storeRefusal({ kind: 'embedded' }, { EXECUTIONS_MODE: 'regular' })).toBeUndefined();
		expect(storeRefusal({ kind: 'embedded' }, { EXECUTIONS_MODE: 'queue' })).toMatch(/^n8n runs in queue mode/);
		expect(storeRefusal({ kind: 'embedded', path: '/x' }, { N8N_MULTI_MAIN_SETUP_ENABLED: 'true' })).toMatch(/several main processes/);
		const postgres = { kind: 'postgres' as const, config: { host: 'h', database: 'd', user: 'u' } };
		expect(storeRefusal(postgres, { EXECUTIONS_MODE: 'queue', N8N_MULTI_MAIN_SETUP_ENABLED: 'true' })).toBeUndefined();
	});

	it('opens one store per configuration and process, shared by every caller', () => {
		const config = { host: '127.0.0.1', port: 1, database: 'd', user: 'u' };
		const a = getProfileEngine({ kind: 'postgres', config });
		expect(getProfileEngine({ kind: 'postgres', config: { ...config, password: 'other' } })).toBe(a);
		expect(getProfileEngine({ kind: 'postgres', config: { ...config, schema: 'other' } })).not.toBe(a);
		expect(a.store.kind).toBe('postgres');
		expect(getProfileEngine().store.kind).toBe('sqlite');
		expect(() => getProfileEngine({ kind: 'embedded' }, { EXECUTIONS_MODE: 'queue' })).toThrow(/queue mode/);
	});
});
