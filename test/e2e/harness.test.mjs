/**
 * Proves the harness itself, independently of the trigger's logic: n8n runs, the packed package is
 * installed and its node type loaded (a workflow with our trigger publishes and registers its
 * webhook), n8n's built-in Webhook -> Set -> HTTP Request chain runs and reaches the receiver, the
 * executions land in the database we read, and a broken start fails fast and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { groupMembers, start } from '../../scripts/n8n/harness.mjs';
import { call, executionData, lastExecutionId, n8n, nodeOutput, received, sleep, waitForExecution } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BUILTIN = 'e2eBuiltinWebhk1';
const EXAMPLE = 'exProfileUpdate1';

describe('harness', () => {
	let run;
	before(async () => {
		run = await n8n();
	});
	after(() => run?.release());

	test('n8n answers on 127.0.0.1 only', async () => {
		const url = new URL(run.baseUrl);
		assert.equal(url.hostname, '127.0.0.1');
		assert.equal((await call(`${run.baseUrl}/healthz/readiness`, { method: 'GET' })).status, 200);
	});

	test('the packed package is installed the way the Community Nodes panel installs it', async () => {
		const packageDir = path.join(run.runDir, 'home', '.n8n', 'nodes', 'node_modules', 'n8n-nodes-profile-webhooks');
		const installed = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
		assert.equal(installed.peerDependencies, undefined, 'peer dependencies are dropped as n8n does');
		assert.equal(installed.devDependencies, undefined, 'dev dependencies are dropped as n8n does');
		for (const file of [...installed.n8n.nodes, ...installed.n8n.credentials]) {
			assert.ok(fs.existsSync(path.join(packageDir, file)), `${file} is in the package`);
		}
		for (const dependency of Object.keys(installed.dependencies ?? {})) {
			assert.ok(fs.existsSync(path.join(packageDir, 'node_modules', dependency)), `runtime dependency ${dependency} installed`);
		}
		assert.ok(!fs.existsSync(path.join(packageDir, 'src')) && !fs.existsSync(path.join(packageDir, 'test')), 'only dist/ is shipped');
	});

	test("our trigger's node type is loaded: its workflow is published and its webhook registered", async () => {
		const [workflow] = await run.query('select id, active, nodes from workflow_entity where id = ?', EXAMPLE);
		assert.ok(workflow, 'the example workflow is imported');
		assert.equal(workflow.active, 1, 'and published');
		const hooks = await run.query('select webhookPath, method, node from webhook_entity where workflowId = ?', EXAMPLE);
		assert.ok(
			hooks.some((hook) => hook.webhookPath === 'profile-update' && hook.method === 'POST'),
			`POST profile-update is registered (got ${JSON.stringify(hooks)})`,
		);
		assert.ok(hooks.every((hook) => hook.node === 'Profile Webhook Trigger' && hook.webhookPath.startsWith('profile-update')));
		const [outbox] = await run.query(
			'select status, errorMessage from workflow_publication_outbox where workflowId = ? order by id desc limit 1',
			EXAMPLE,
		);
		assert.equal(outbox.status, 'completed', outbox.errorMessage ?? '');
		const preflight = await call(`${run.baseUrl}/webhook/profile-update`, {
			method: 'OPTIONS',
			headers: { Origin: run.baseUrl, 'Access-Control-Request-Method': 'POST' },
		});
		assert.equal(preflight.status, 204, 'n8n serves the path');
	});

	test("built-in Webhook -> Set -> HTTP Request runs, reaches the receiver, and is recorded", async () => {
		const before = await lastExecutionId(run);
		const msg = `hello-${Date.now()}`;
		const answer = await call(`${run.baseUrl}/webhook/harness-self-test`, { body: { msg } });
		assert.equal(answer.status, 200, answer.text);
		assert.deepEqual(answer.json, { message: 'Workflow was started' });

		const execution = await waitForExecution(run, BUILTIN, before);
		assert.equal(execution.status, 'success');
		const { data } = await executionData(run, execution.id);
		assert.deepEqual(nodeOutput(data, 'Set'), [{ echo: msg, seenBy: 'harness-self-test' }]);

		let got;
		for (let i = 0; i < 50 && !got; i++) {
			got = (await received(run)).find((r) => r.url === '/harness-self-test' && r.body.includes(msg));
			if (!got) await sleep(100);
		}
		assert.ok(got, 'the receiver got the request');
		assert.deepEqual(JSON.parse(got.body), { echo: msg, seenBy: 'harness-self-test' });
	});
});

describe('harness failures', () => {
	test('an unknown node type fails the start fast, with the reason, and leaves nothing running', async () => {
		const t0 = Date.now();
		const messages = [];
		let pid;
		await assert.rejects(
			start({
				workflows: [path.join(here, 'fixtures', 'broken', 'unknown-node-type.json')],
				log: (message) => {
					messages.push(message);
				},
			}).then((run) => {
				pid = run.pid;
				return run.stop();
			}),
			/publishing failed in n8n:[\s\S]*e2eUnknownType01/,
		);
		assert.equal(pid, undefined);
		const runDir = messages.find((m) => m.startsWith('run folder '))?.slice('run folder '.length);
		const runInfo = JSON.parse(fs.readFileSync(path.resolve(runDir, 'run.json'), 'utf8'));
		assert.deepEqual(groupMembers(runInfo.pid), [], "no process of that n8n's group is left");
		const portFree = await new Promise((resolve) => {
			const server = net.createServer().once('error', () => resolve(false));
			server.listen(runInfo.port, '127.0.0.1', () => server.close(() => resolve(true)));
		});
		assert.ok(portFree, 'its port is free again');
		assert.ok(Date.now() - t0 < 150_000, 'it failed within the start timeout');
	});
});
