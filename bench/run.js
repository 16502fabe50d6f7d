// The benchmark: per-request cost of the engine as the store grows (npm run bench).
// It drives the built engine (dist/lib) directly, without n8n, so the figures are the package's
// own work: request reading, mapping, one atomic store update, and outgoing template rendering.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');

const dist = join(__dirname, '..', 'dist', 'lib');
const { SqliteProfileStore } = require(join(dist, 'store', 'SqliteProfileStore'));
const { getTriggerConfig } = require(join(dist, 'inbound', 'triggerConfig'));
const { handleProfileRequest } = require(join(dist, 'inbound', 'handleRequest'));
const { getWebhookConfig } = require(join(dist, 'outbound', 'webhookConfig'));
const { buildProfileView } = require(join(dist, 'templates', 'profileView'));

const sizes = (process.env.BENCH_SIZES ?? '1000,10000,50000').split(',').map(Number);
const requests = Number(process.env.BENCH_REQUESTS ?? 2000);
const synchronous = process.env.BENCH_SYNCHRONOUS ?? 'FULL';

const settings = {
	authentication: 'apiKey',
	identifierProperty: 'email',
	createProfiles: true,
	mappings: [
		{ field: '$.firstName', property: 'firstname', mode: 'set' },
		{ field: '$.visits', property: 'visits', mode: 'sum' },
		{ field: '$.tags[*]', property: 'tags', mode: 'add' },
	],
	timelineEvents: [{ eventType: 'webhook_received', dateField: '', idField: '', dataFields: '' }],
	ipAllowlist: '127.0.0.0/8, 10.0.0.0/8',
};
const secret = { apiKey: 'bench-key-0123456789', headerName: 'X-API-Key' };

function request(email, i) {
	const body = { firstName: `Name ${i}`, visits: 1, tags: ['bench', `t${i % 7}`] };
	return {
		method: 'POST',
		ip: '127.0.0.1',
		headers: { 'x-api-key': secret.apiKey, 'content-type': 'application/json' },
		query: { property: 'email', email },
		contentType: 'application/json',
		body,
		rawBody: Buffer.from(JSON.stringify(body)),
	};
}

function percentile(sorted, p) {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
	console.log(`Node ${process.version}; ${requests} requests per size; SQLite synchronous=${synchronous}`);
	console.log('profiles | req/s | p50 ms | p99 ms | template renders/s');
	for (const size of sizes) {
		const dir = mkdtempSync(join(tmpdir(), 'profile-bench-'));
		const store = new SqliteProfileStore(join(dir, 'profiles.sqlite'), { synchronous });
		const config = getTriggerConfig(settings);
		for (let i = 0; i < size; i++) {
			await store.create({ properties: { email: [`seed${i}@example.test`], visits: [i] } });
		}
		const latencies = [];
		const started = performance.now();
		for (let i = 0; i < requests; i++) {
			const email = `seed${(i * 7919) % size}@example.test`;
			const t0 = performance.now();
			await handleProfileRequest(config, request(email, i), store, secret);
			latencies.push(performance.now() - t0);
		}
		const seconds = (performance.now() - started) / 1000;
		latencies.sort((a, b) => a - b);

		const webhook = getWebhookConfig({
			profileSource: 'input', segments: [], objectives: [], triggerOn: 'always', triggerProperties: [], triggerEvents: [],
			method: 'POST', url: 'https://crm.example.com/contacts/{{email.0}}', headers: [{ name: 'X-Id', value: '{{profileId}}' }],
			bodyFormat: 'json', body: '{"email":"{{email.0}}","name":"{{firstname.0}}","tags":{{json tags}}}', responseMappings: [],
		});
		const profile = (await store.findByIdentifier('DEFAULT', 'email', 'seed0@example.test')).profile;
		const renders = 20000;
		const r0 = performance.now();
		for (let i = 0; i < renders; i++) webhook.request.render(buildProfileView(profile));
		const renderRate = renders / ((performance.now() - r0) / 1000);

		console.log(
			`${String(size).padStart(8)} | ${(requests / seconds).toFixed(0).padStart(5)} | ${percentile(latencies, 50).toFixed(2).padStart(6)} | ${percentile(latencies, 99).toFixed(2).padStart(6)} | ${renderRate.toFixed(0)}`,
		);
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
