/**
 * The package in n8n's QUEUE MODE, for real (scripts/n8n/queue.mjs): PostgreSQL for n8n and for
 * profiles, Redis, one main, two webhook processes, one worker. Thousands of concurrent Profile
 * Webhook Trigger requests spread over both webhook processes update a few hundred profiles with
 * `sum` and `add`: every acknowledged update is in the PostgreSQL store, none twice. The same load
 * on one n8n (regular mode, its own SQLite database, the embedded SQLite profile store), started by
 * harness.mjs and stopped before the queue stack starts, is the baseline for requests per second.
 *
 * n8n 2.41 evaluates expressions in an isolated-vm bridge by default (N8N_EXPRESSION_ENGINE=vm),
 * acquired per webhook request for every trigger but its own Webhook node; on 2 cores that costs
 * more than everything else together (docs/scaling.md). This run uses N8N_EXPRESSION_ENGINE=legacy
 * on both setups unless QUEUE_E2E_EXPRESSION_ENGINE says otherwise (vm: n8n's default).
 * Then the worker is SIGKILLed mid-run and restarted (responseMode lastNode, so answers wait for
 * it): nothing acknowledged is lost. And the embedded store is refused at activation.
 *
 * Figures go to stderr and to .e2e/queue-mode-figures.json (docs/scaling.md quotes them).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { query, REPO_ROOT, start } from '../../scripts/n8n/harness.mjs';
import { startQueue } from '../../scripts/n8n/queue.mjs';
import { acknowledged, planUpdates, sendUpdates, summarize, verifyUpdates } from './profileLoad.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const LOAD_WORKFLOW_FILE = path.join(here, 'queue', 'load-sum-add.json');
const LOAD_WORKFLOW = JSON.parse(fs.readFileSync(LOAD_WORKFLOW_FILE, 'utf8'));
const REQUESTS = Number(process.env.QUEUE_E2E_REQUESTS || 2000);
const PROFILES = Number(process.env.QUEUE_E2E_PROFILES || 300);
const CONCURRENCY = Number(process.env.QUEUE_E2E_CONCURRENCY || 32);
const KILL_REQUESTS = Number(process.env.QUEUE_E2E_KILL_REQUESTS || 600);
const STORE_CREDENTIAL = { id: 'pgProfileStore01', name: 'Profile store (PostgreSQL)' };
const N8N_ENV = { N8N_EXPRESSION_ENGINE: process.env.QUEUE_E2E_EXPRESSION_ENGINE || 'legacy' };

const log = (msg) => process.stderr.write(`[queue-e2e] ${msg}\n`);

/** The load workflow with another id, path, response mode and store credential. */
function variant(id, pathSuffix, { responseMode = 'onReceived', storeCredential = true } = {}) {
	const workflow = structuredClone(LOAD_WORKFLOW);
	workflow.id = id;
	workflow.name = `${workflow.name} [${id}]`;
	const trigger = workflow.nodes[0];
	trigger.parameters.path = `load-sum-add${pathSuffix}`;
	trigger.parameters.options.responseMode = responseMode;
	if (storeCredential) trigger.credentials = { profileStoreApi: STORE_CREDENTIAL };
	delete trigger.id;
	delete trigger.webhookId;
	return workflow;
}

function byEmail(rows) {
	const map = new Map();
	for (const row of rows) {
		const properties = typeof row.properties === 'string' ? JSON.parse(row.properties) : row.properties;
		const email = properties.email?.[0];
		if (email !== undefined) map.set(String(email), properties);
	}
	return map;
}

describe('queue mode: PostgreSQL store, two webhook processes, one worker', { timeout: 1_200_000 }, () => {
	const figures = {
		machine: { cpus: os.cpus().length, loadavgAtStart: os.loadavg() },
		n8nEnv: N8N_ENV,
		requests: REQUESTS,
		profiles: PROFILES,
		concurrency: CONCURRENCY,
	};
	let single;
	let stack;

	after(async () => {
		await single?.stop();
		await stack?.stop();
		figures.machine.loadavgAtEnd = os.loadavg();
		fs.mkdirSync(path.join(REPO_ROOT, '.e2e'), { recursive: true });
		fs.writeFileSync(path.join(REPO_ROOT, '.e2e', 'queue-mode-figures.json'), JSON.stringify(figures, null, 2));
		log(`figures: ${JSON.stringify(figures)}`);
	}, { timeout: 120_000 });

	test('baseline: the same load on one n8n with the embedded SQLite store', { timeout: 900_000 }, async () => {
		single = await start({ workflows: [LOAD_WORKFLOW_FILE], extraEnv: N8N_ENV, log });
		const label = `single-${Date.now()}`;
		const updates = planUpdates({ label, count: REQUESTS, profiles: PROFILES, seed: 7 });
		const { outcomes, ms } = await sendUpdates({ baseUrls: [single.baseUrl], path: 'load-sum-add', updates, concurrency: CONCURRENCY });
		const summary = summarize(outcomes, ms);
		const storePath = path.join(single.userFolder, '.n8n', 'profile-webhooks', 'profiles.sqlite');
		const rows = await query(storePath, 'SELECT properties FROM profiles');
		await single.stop(); // before the queue stack starts: the two never share the CPU
		const check = verifyUpdates(updates, outcomes, byEmail(rows));
		figures.singleSqlite = { ...summary, ...check, problems: check.problems.slice(0, 5) };
		log(`one instance, SQLite: ${JSON.stringify(figures.singleSqlite)}`);
		assert.deepEqual(check.problems, []);
		assert.equal(check.acknowledged, check.sent, JSON.stringify(summary.byStatus));
		assert.equal(check.found, check.acknowledged);
	});

	test('queue mode starts with the PostgreSQL store credential on every node', { timeout: 600_000 }, async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queue-e2e-workflows-'));
		const workflows = [
			variant('loadSumAddQueue1', ''),
			variant('loadSumAddLast01', '-last', { responseMode: 'lastNode' }),
			variant('loadEmbedded0001', '-embedded', { storeCredential: false }),
		];
		for (const workflow of workflows) fs.writeFileSync(path.join(dir, `${workflow.id}.json`), JSON.stringify(workflow));
		stack = await startQueue({
			workflows: [dir],
			credentials: (services) => [
				{
					...STORE_CREDENTIAL,
					type: 'profileStoreApi',
					data: {
						store: 'postgres',
						host: '127.0.0.1',
						port: services.pgPort,
						database: 'profiles',
						user: services.pgUser,
						password: '',
						ssl: 'disable',
						schema: 'profile_webhooks',
						maxConnections: 10,
					},
				},
			],
			expectFailedPublications: ['loadEmbedded0001'],
			extraEnv: N8N_ENV,
			log,
		});
		fs.rmSync(dir, { recursive: true, force: true });
		figures.queueStartup = stack.timings;
		assert.equal(stack.webhookUrls.length, 2);
	});

	test('thousands of concurrent updates over both webhook processes: every acknowledged one found, none twice', { timeout: 600_000 }, async () => {
		assert.ok(stack, 'the queue stack did not start');
		const label = `queue-${Date.now()}`;
		const updates = planUpdates({ label, count: REQUESTS, profiles: PROFILES, seed: 7 });
		const { outcomes, ms } = await sendUpdates({ baseUrls: stack.webhookUrls, path: 'load-sum-add', updates, concurrency: CONCURRENCY });
		const summary = summarize(outcomes, ms);
		const rows = await stack.profilesDb('SELECT properties FROM profile_webhooks.profiles');
		const check = verifyUpdates(updates, outcomes, byEmail(rows));
		const perProcess = {};
		for (const o of outcomes) if (acknowledged(o)) perProcess[o.base] = (perProcess[o.base] ?? 0) + 1;
		// onReceived answers before the worker runs the execution: how far the worker had got.
		const executions = await stack.n8nDb(
			`SELECT status, count(*)::int AS n FROM execution_entity WHERE "workflowId" = 'loadSumAddQueue1' GROUP BY status ORDER BY status`,
		);
		figures.queuePostgres = {
			...summary,
			...check,
			problems: check.problems.slice(0, 5),
			acknowledgedPerWebhookProcess: Object.values(perProcess),
			executionsWhenLoadEnded: Object.fromEntries(executions.map((r) => [r.status, r.n])),
		};
		log(`queue mode, PostgreSQL: ${JSON.stringify(figures.queuePostgres)}`);
		assert.deepEqual(check.problems, []);
		assert.equal(check.acknowledged, check.sent, JSON.stringify(summary.byStatus));
		assert.equal(check.found, check.acknowledged);
		assert.equal(Object.keys(perProcess).length, 2, 'both webhook processes answered');
		// One profile per e-mail address, even though the first requests for each came concurrently.
		const [{ n }] = await stack.profilesDb(
			"SELECT count(*)::int AS n FROM profile_webhooks.profiles WHERE properties::jsonb->'email'->>0 LIKE $1",
			[`${label}-%`],
		);
		assert.equal(n, new Set(updates.map((u) => u.email)).size);
	});

	test('a worker SIGKILLed mid-run and restarted: nothing acknowledged is lost, nothing applied twice', { timeout: 600_000 }, async () => {
		assert.ok(stack, 'the queue stack did not start');
		const label = `kill-${Date.now()}`;
		const updates = planUpdates({ label, count: KILL_REQUESTS, profiles: Math.min(PROFILES, 100), seed: 11 });
		let killed;
		let restarted;
		const sending = sendUpdates({
			baseUrls: stack.webhookUrls,
			path: 'load-sum-add-last',
			updates,
			concurrency: 16,
			timeoutMs: 180_000,
			onProgress: (done) => {
				if (done === Math.floor(KILL_REQUESTS / 3) && !killed) {
					killed = (async () => {
						await stack.worker.kill();
						log(`worker SIGKILLed after ${done} answers`);
						await new Promise((resolve) => setTimeout(resolve, 3_000));
						const ms = await stack.worker.start();
						log(`worker restarted, ready in ${(ms / 1000).toFixed(1)} s`);
						restarted = ms;
					})();
				}
			},
		});
		const { outcomes, ms } = await sending;
		await killed;
		assert.ok(restarted !== undefined, 'the worker was killed and restarted during the run');
		const summary = summarize(outcomes, ms);
		const rows = await stack.profilesDb('SELECT properties FROM profile_webhooks.profiles');
		const check = verifyUpdates(updates, outcomes, byEmail(rows));
		const statuses = await stack.n8nDb(
			`SELECT status, count(*)::int AS n FROM execution_entity WHERE "workflowId" = 'loadSumAddLast01' GROUP BY status ORDER BY status`,
		);
		figures.workerKilled = {
			...summary,
			...check,
			problems: check.problems.slice(0, 5),
			workerRestartMs: restarted,
			executions: Object.fromEntries(statuses.map((r) => [r.status, r.n])),
		};
		log(`worker killed mid-run: ${JSON.stringify(figures.workerKilled)}`);
		assert.deepEqual(check.problems, []);
		assert.equal(check.found, check.acknowledged);
		assert.ok(check.acknowledged > KILL_REQUESTS / 3, 'updates were acknowledged after the restart too');
	});

	test('the embedded store is refused at activation in queue mode, with what to configure', { timeout: 120_000 }, async () => {
		assert.ok(stack, 'the queue stack did not start');
		const rows = await stack.n8nDb(
			`SELECT status, "errorMessage" FROM workflow_publication_outbox WHERE "workflowId" = 'loadEmbedded0001' ORDER BY id DESC LIMIT 1`,
		);
		figures.embeddedRefusal = rows[0];
		log(`embedded store in queue mode: ${JSON.stringify(rows[0])}`);
		assert.equal(rows[0]?.status, 'failed');
		assert.match(rows[0].errorMessage, /queue mode/);
		assert.match(rows[0].errorMessage, /Profile Store API/);
		const answer = await fetch(`${stack.webhookUrls[0]}/webhook/load-sum-add-embedded?property=email&email=x@example.com`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{"amount":1}',
		});
		assert.equal(answer.status, 404, 'no webhook registered: no 503 per call');
	});
});
