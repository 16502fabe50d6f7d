/**
 * Store selection through the `profileStoreApi` credential, in n8n-core's real contexts: the embedded
 * store refused at activation in queue mode and multi-main, the Profile Webhook Trigger writing to
 * PostgreSQL when the credential says so, and answering 503 (nothing written) while PostgreSQL
 * cannot be reached, without failing activation.
 */
import { randomUUID } from 'node:crypto';

import type { INodeParameters } from 'n8n-workflow';

import { ProfileStoreApi } from '../../credentials/ProfileStoreApi.credentials';
import { ProfileEngine } from '../../lib/profiles/engine';
import { PostgresProfileStore, type PostgresStoreConfig } from '../../lib/store/postgres';
import { closeProfileStores } from '../../lib/store/registry';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { runWebhookMethod, startWebhookNode, type TestCredential, type WebhookNodeServer } from '../helpers/n8n';
import { describePostgres, sql, testConfig } from '../helpers/postgres';

const parameters: INodeParameters = {
	path: 'store-selection',
	authentication: 'none',
	identifierProperty: 'email',
	createProfiles: true,
	mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] },
};

function storeCredential(data: Record<string, unknown>): TestCredential {
	return { type: 'profileStoreApi', data: data as TestCredential['data'] };
}

function postgresCredential(config: PostgresStoreConfig): TestCredential {
	return storeCredential({
		store: 'postgres',
		host: config.host,
		port: config.port,
		database: config.database,
		user: config.user,
		password: config.password ?? '',
		ssl: 'disable',
		schema: config.schema,
		maxConnections: 3,
	});
}

const subject = (credentials: TestCredential[] = []) => ({
	nodeType: new ProfileWebhookTrigger(),
	parameters,
	credentials,
	credentialTypes: [new ProfileStoreApi()],
});

/** Runs `work` with some environment variables set, as n8n's processes would have them. */
async function withEnv<T>(vars: Record<string, string>, work: () => Promise<T>): Promise<T> {
	const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
	Object.assign(process.env, vars);
	try {
		return await work();
	} finally {
		for (const [k, v] of Object.entries(saved)) {
			if (v === undefined) delete process.env[k];
			else process.env[k] = v;
		}
	}
}

const servers: WebhookNodeServer[] = [];
afterAll(async () => {
	await Promise.all(servers.map((s) => s.close()));
	await closeProfileStores();
});

async function post(url: string, email: string, visits: number): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
	const res = await fetch(`${url}?property=email&email=${encodeURIComponent(email)}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ visits }),
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
}

describe('Profile store selection', () => {
	it.each([
		[{ EXECUTIONS_MODE: 'queue' }, /Invalid profile store: n8n runs in queue mode \(EXECUTIONS_MODE=queue\).*create a "Profile Store API" credential with Store "PostgreSQL"/],
		[{ N8N_MULTI_MAIN_SETUP_ENABLED: 'true' }, /Invalid profile store: n8n runs with several main processes \(N8N_MULTI_MAIN_SETUP_ENABLED=true\)/],
	])('refuses the embedded store at activation under %j, saying what to configure', async (env, message) => {
		await withEnv(env, async () => {
			await expect(runWebhookMethod(subject(), 'checkExists')).rejects.toThrow(message);
			// An embedded credential (another file) is the embedded store all the same.
			await expect(
				runWebhookMethod(subject([storeCredential({ store: 'embedded', filePath: '/tmp/x.sqlite' })]), 'checkExists'),
			).rejects.toThrow(message);
		});
	});

	it('activates with the embedded store in regular mode', async () => {
		await expect(runWebhookMethod(subject(), 'checkExists')).resolves.toBe(true);
	});

	it('refuses PostgreSQL settings that cannot work, naming them', async () => {
		const credential = storeCredential({ store: 'postgres', host: '', database: 'x', user: 'u', schema: 'Bad Schema' });
		await expect(runWebhookMethod(subject([credential]), 'checkExists')).rejects.toThrow(
			/Invalid profile store: PostgreSQL profile store: host is empty; schema "Bad Schema" must be lower-case/,
		);
	});

	it('activates with an unreachable PostgreSQL, then answers 503 with Retry-After per call', async () => {
		const credential = postgresCredential({ host: '127.0.0.1', port: 1, database: 'profiles', user: 'nobody', schema: 'unreachable' });
		await withEnv({ EXECUTIONS_MODE: 'queue' }, async () => {
			await expect(runWebhookMethod(subject([credential]), 'checkExists')).resolves.toBe(true);
			const server = await startWebhookNode(subject([credential]));
			servers.push(server);
			const answer = await post(server.url, 'nobody@example.com', 1);
			expect(answer.status).toBe(503);
			expect(answer.retryAfter).toBe('1');
			expect(answer.body).toEqual({
				error: {
					code: 'STORE_UNAVAILABLE',
					message: expect.stringMatching(/^cannot reach the PostgreSQL profile store at 127\.0\.0\.1:1\/profiles \(schema unreachable\): .*ECONNREFUSED/) as unknown,
				},
			});
			expect(JSON.stringify(answer.body)).not.toContain('nobody@example.com');
		});
	});
});

describePostgres('Profile store selection: PostgreSQL', () => {
	it('in queue mode the trigger writes to the PostgreSQL store the credential names', async () => {
		const config = testConfig();
		const credential = postgresCredential(config);
		const email = `pg-${randomUUID().slice(0, 8)}@example.com`;
		await withEnv({ EXECUTIONS_MODE: 'queue' }, async () => {
			await expect(runWebhookMethod(subject([credential]), 'checkExists')).resolves.toBe(true);
			const server = await startWebhookNode(subject([credential]));
			servers.push(server);
			expect((await post(server.url, email, 2)).body).toMatchObject({ state: 'CREATED' });
			expect((await post(server.url, email, 3)).body).toMatchObject({ state: 'MODIFIED' });
		});
		const engine = new ProfileEngine(new PostgresProfileStore(config));
		try {
			const { profile } = await engine.findByIdentifier('DEFAULT', 'email', email);
			expect(profile?.properties).toEqual({ email: [email], visits: [5] });
		} finally {
			await engine.close();
		}
		// Activation indexed the identifier property.
		expect(await sql(config, 'SELECT property FROM indexed_properties')).toEqual([{ property: 'email' }]);
	});
});
