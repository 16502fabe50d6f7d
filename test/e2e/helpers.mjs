/**
 * What the e2e test files share: the running n8n (see setup.mjs), HTTP calls, and read-only looks
 * into n8n's SQLite database (executions, webhooks).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { n8nCacheDir, query } from '../../scripts/n8n/harness.mjs';

/**
 * The suite's n8n. Under `npm run test:e2e` the global set-up started it; a file run on its own
 * (`node_modules/.bin/node --test test/e2e/x.test.mjs`) starts its own, which `release()` stops:
 *
 *   before(async () => { run = await n8n(); });
 *   after(() => run?.release());
 */
export async function n8n() {
	let release = async () => {};
	if (!process.env.E2E_BASE_URL) {
		const setup = await import('./setup.mjs');
		await setup.globalSetup();
		release = () => setup.globalTeardown();
	}
	const env = process.env;
	return {
		baseUrl: env.E2E_BASE_URL,
		runDir: env.E2E_RUN_DIR,
		dbPath: env.E2E_DB_PATH,
		n8nLog: env.E2E_N8N_LOG,
		apiKey: env.E2E_API_KEY,
		receiverUrl: env.E2E_RECEIVER_URL,
		webhooks: JSON.parse(env.E2E_WEBHOOKS),
		query: (sql, ...params) => query(env.E2E_DB_PATH, sql, ...params),
		release,
	};
}

/** An HTTP call; the answer with its body parsed when it is JSON. */
export async function call(url, { method = 'POST', headers = {}, body } = {}) {
	const init = { method, headers: { ...headers } };
	if (body !== undefined) {
		init.body = typeof body === 'string' ? body : JSON.stringify(body);
		init.headers['content-type'] ??= 'application/json';
	}
	const response = await fetch(url, init);
	const text = await response.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: response.status, headers: response.headers, text, json };
}

/** A unique e-mail address per test, so tests never share a profile. */
export const uniqueEmail = (label) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Executions of a workflow, oldest first. */
export async function executions(run, workflowId) {
	return await run.query(
		'select id, workflowId, mode, status, finished, startedAt, stoppedAt from execution_entity where workflowId = ? order by id',
		workflowId,
	);
}

/** Waits for the first execution of `workflowId` with an id above `afterId` to finish. */
export async function waitForExecution(run, workflowId, afterId = 0, timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const rows = await run.query(
			`select id, status, finished from execution_entity where workflowId = ? and id > ? and status not in ('new', 'running', 'waiting') order by id limit 1`,
			workflowId,
			afterId,
		);
		if (rows.length) return rows[0];
		if (Date.now() > deadline) throw new Error(`no finished execution of ${workflowId} after #${afterId} within ${timeoutMs} ms`);
		await sleep(200);
	}
}

export const lastExecutionId = async (run) => (await run.query('select max(id) as id from execution_entity'))[0]?.id ?? 0;

let flatted;
/** An execution's stored run data, parsed with n8n's own `flatted`. */
export async function executionData(run, executionId) {
	const [row] = await run.query('select data, workflowData from execution_data where executionId = ?', executionId);
	if (!row) throw new Error(`execution ${executionId} has no execution_data row`);
	flatted ??= createRequire(path.join(n8nCacheDir(), 'node_modules', 'n8n', 'package.json'))('flatted');
	return { raw: row.data, data: flatted.parse(row.data), workflowData: JSON.parse(row.workflowData) };
}

/** The items a node output in an execution (first run, first output). */
export function nodeOutput(data, nodeName) {
	const runs = data.resultData?.runData?.[nodeName];
	if (!runs) throw new Error(`node "${nodeName}" did not run (ran: ${Object.keys(data.resultData?.runData ?? {}).join(', ')})`);
	return (runs[0].data?.main?.[0] ?? []).map((item) => item.json);
}

/** Requests the receiver got. */
export async function received(run) {
	return (await call(`${run.receiverUrl}/_received`, { method: 'GET' })).json;
}

/** Every place n8n stored something about executions, as text, by table. */
export async function executionTables(run) {
	const tables = (await run.query(`select name from sqlite_master where type = 'table' and name like 'execution%'`)).map((r) => r.name);
	const dump = {};
	for (const table of tables) dump[table] = JSON.stringify(await run.query(`select * from "${table}"`));
	return dump;
}

/** n8n's database files (including the write-ahead log) as one buffer, for byte searches. */
export function databaseBytes(run) {
	return Buffer.concat(
		['', '-wal', '-journal'].map((suffix) => run.dbPath + suffix).filter((file) => fs.existsSync(file)).map((file) => fs.readFileSync(file)),
	);
}

/** The n8n owner the editor and REST tests sign in as (set up by whichever test comes first). */
export const OWNER = { email: 'owner@example.com', firstName: 'Ed', lastName: 'Itor', password: 'Editor-e2e-Passw0rd' };

/** Sets up n8n's owner (or logs in when an earlier run did) and answers the session cookie. */
export async function ownerCookie(baseUrl) {
	let answer = await fetch(`${baseUrl}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(OWNER),
	});
	if (!answer.ok) {
		answer = await fetch(`${baseUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: OWNER.email, password: OWNER.password }),
		});
	}
	assert.ok(answer.ok, `owner setup / login answered ${answer.status}: ${await answer.clone().text()}`);
	const cookie = answer.headers.getSetCookie().find((c) => c.startsWith('n8n-auth='));
	assert.ok(cookie, 'n8n set its auth cookie');
	return cookie.split(';')[0];
}
