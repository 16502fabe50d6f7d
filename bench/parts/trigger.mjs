/**
 * Part 3: what the trigger costs on top of the profile engine's update (the engine against a bare
 * transaction is part 1).
 * - 3.engine: handleProfileRequest (allowlist, API key, body, identifier, JsonPath mappings, plan,
 *   engine update, answer) against engine.applyByIdentifier alone with the same change set.
 * - 3.context: the Profile Webhook Trigger node in n8n-core's real WebhookContext, served over HTTP
 *   the way n8n serves it (test/helpers/n8n.ts), against a bare node:http server that parses the
 *   same JSON and makes the same store update. One client, keep-alive, one request at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { seedEmail, seedProfiles } from '../lib/buildStore.mjs';
import { compare, prng, row } from '../lib/measure.mjs';
import { loadN8nTestHelpers, requireFromRepo } from '../lib/n8nContext.mjs';
import { triggerChangeSet } from '../lib/subject.mjs';

const API_KEY = 'bench-key-0123456789abcdef';

const body = (i) => ({ firstName: `Name ${i}`, visits: 1, tags: ['bench', `t${i % 7}`] });

const parameters = {
	path: 'bench-profiles',
	authentication: 'apiKey',
	identifierProperty: 'email',
	createProfiles: true,
	mappings: {
		mapping: [
			{ field: '$.firstName', property: 'firstname', mode: 'set' },
			{ field: '$.visits', property: 'visits', mode: 'sum' },
			{ field: '$.tags[*]', property: 'tags', mode: 'add' },
		],
	},
	timelineEvents: { event: [{ eventType: 'webhook_received', dateField: '', idField: '', dataFields: '' }] },
	options: { ipAllowlist: '127.0.0.0/8, ::1/128' },
};

function bareServer(store) {
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			try {
				if (req.headers['x-api-key'] !== API_KEY) {
					res.writeHead(401).end();
					return;
				}
				const email = new URL(req.url, 'http://x').searchParams.get('email');
				const data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
				const change = triggerChangeSet(0, email);
				change.imports[0].values = [data.firstName];
				change.imports[1].values = [data.visits];
				change.imports[2].values = data.tags;
				const result = await store.applyByIdentifier(change);
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ state: result.state, profileId: result.profile?.id ?? null }));
			} catch (error) {
				res.writeHead(500).end(String(error));
			}
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function run({ dist, sizes, roundMs, rounds, only }) {
	const want = (id) => !only || only.includes(id);
	const rows = [];
	const notes = [];
	const home = mkdtempSync(join(tmpdir(), 'profile-bench-trigger-'));
	process.env.N8N_USER_FOLDER = home; // the node's store: <home>/.n8n/profile-webhooks/profiles.sqlite
	const req = (m) => requireFromRepo(join(dist, m));
	const { getProfileEngine, closeProfileStores } = req('lib/store/registry.js');
	const { getTriggerConfig } = req('lib/inbound/triggerConfig.js');
	const { handleProfileRequest } = req('lib/inbound/handleRequest.js');
	const { ProfileWebhookTrigger } = req('nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node.js');
	const { ProfileWebhookApi } = req('credentials/ProfileWebhookApi.credentials.js');
	const store = getProfileEngine(); // the engine the node uses (same module instance)
	await store.ensureIndexed(['email']);
	const n = sizes.small;
	await store.importProfiles(seedProfiles(n));
	const pick = prng(5);
	const randomEmail = () => seedEmail(Math.floor(pick() * n));

	try {
		if (want('3.engine')) {
			const settings = {
				authentication: 'apiKey',
				identifierProperty: 'email',
				createProfiles: true,
				mappings: parameters.mappings.mapping,
				timelineEvents: parameters.timelineEvents.event,
				ipAllowlist: parameters.options.ipAllowlist,
				maxBodySizeKb: 1024,
			};
			const secret = { apiKey: API_KEY, headerName: 'X-API-Key' };
			const request = (i, email) => {
				const json = body(i);
				return {
					method: 'POST',
					ip: '127.0.0.1',
					headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
					query: { property: 'email', email },
					contentType: 'application/json',
					body: json,
					rawBody: Buffer.from(JSON.stringify(json)),
				};
			};
			const result = await compare({
				// As the node does per request: the settings are compiled once (memoised by content).
				pkg: (i) => handleProfileRequest(getTriggerConfig(settings), request(i, randomEmail()), store, secret),
				base: (i) => store.applyByIdentifier(triggerChangeSet(i, randomEmail())),
				roundMs,
				rounds,
			});
			rows.push(
				row({
					id: '3.engine',
					part: '3 trigger handling',
					name: 'handleProfileRequest vs engine.applyByIdentifier alone (same change set), in process',
					unit: 'requests/s',
					result,
					note: "1 - ratio is the trigger's request handling share (part 1 compares the engine with a bare transaction)",
				}),
			);
		}

		if (want('3.context')) {
			const { startWebhookNode } = loadN8nTestHelpers();
			const node = await startWebhookNode({
				nodeType: new ProfileWebhookTrigger(),
				parameters,
				credentials: [{ type: 'profileWebhookApi', data: { apiKey: API_KEY, headerName: 'X-API-Key', sendIn: 'header' } }],
				credentialTypes: [new ProfileWebhookApi()],
			});
			const bare = await bareServer(store);
			const bareUrl = `http://127.0.0.1:${bare.address().port}/webhook/bench-profiles`;
			const post = async (url, i) => {
				const email = randomEmail();
				const res = await fetch(`${url}?property=email&email=${encodeURIComponent(email)}`, {
					method: 'POST',
					headers: { 'X-API-Key': API_KEY, 'content-type': 'application/json' },
					body: JSON.stringify(body(i)),
				});
				const text = await res.text();
				if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
			};
			try {
				const result = await compare({
					pkg: (i) => post(node.url, i),
					base: (i) => post(bareUrl, i),
					roundMs,
					rounds,
				});
				notes.push(`3.context executions recorded by the node: ${node.executions.length}`);
				node.executions.length = 0;
				rows.push(
					row({
						id: '3.context',
						part: '3 trigger in context',
						name: 'trigger webhook() in a real WebhookContext over HTTP vs bare node:http + engine.applyByIdentifier',
						unit: 'requests/s',
						result,
					}),
				);
			} finally {
				await node.close();
				bare.closeAllConnections();
				await new Promise((resolve) => bare.close(resolve));
			}
		}
	} finally {
		await closeProfileStores();
		rmSync(home, { recursive: true, force: true });
	}
	return { rows, notes };
}
