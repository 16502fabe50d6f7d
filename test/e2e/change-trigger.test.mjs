/**
 * The Profile Change Trigger in a real n8n (issue 14): workflow A (test/e2e/change-trigger/incoming.json,
 * a Profile Webhook Trigger) updates profiles; workflow B (examples/outgoing-goal-on-change.json,
 * Profile Change Trigger on `tier, plan` -> Profile Webhook) must send exactly one request to a
 * local receiver per change of a selected property, none for another property, and lose none when
 * n8n is restarted between two changes, including a change written to the store while n8n was down.
 *
 * It runs its own n8n (it restarts it) on its own receiver. Figures (changes, requests, duplicates,
 * lost, commit -> execution start) are printed and written to <runDir>/change-trigger-figures.json.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { EXAMPLE_RECEIVER_URL, query, REPO_ROOT, start, startReceiver } from '../../scripts/n8n/harness.mjs';
import { call, sleep, uniqueEmail } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKFLOW_B = 'exGoalOnChange01';
const TRIGGER_NODE_ID = '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a01';
const CONSUMER = `profileChangeTrigger:${WORKFLOW_B}:${TRIGGER_NODE_ID}`;
const SELECTED = ['tier', 'plan'];

/** Waits for a condition, polling; fails with `what` after `timeoutMs`. */
async function waitFor(condition, what, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await condition();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(100);
	}
}

const sqliteTime = (text) => Date.parse(`${String(text).replace(' ', 'T')}${/Z|[+-]\d\d:?\d\d$/.test(text) ? '' : 'Z'}`);

describe('Profile Change Trigger -> Profile Webhook in a real n8n (the outgoing goal)', () => {
	let run;
	let receiver;
	let storePath;
	/** Every change made to a selected property: { profileId, property, value, seq, whileDown? }. */
	const selectedChanges = [];
	let unselectedChanges = 0;

	const feedQuery = (sql, ...params) => query(storePath, sql, ...params);
	const cursor = async () => (await feedQuery('select seq from feed_cursors where consumer_id = ?', CONSUMER))[0]?.seq;
	const lastSeq = async () => (await feedQuery('select max(seq) as seq from change_feed'))[0]?.seq ?? 0;
	const goalRequests = () => receiver.requests.filter((r) => r.url.startsWith('/crm/goals/'));

	/** A profile update through workflow A; returns the profile id and the feed seq it committed. */
	async function update(email, body) {
		const answer = await call(`${run.baseUrl}/webhook/change-trigger-in?property=email&email=${encodeURIComponent(email)}`, { body });
		assert.equal(answer.status, 200, answer.text);
		const [row] = await feedQuery('select seq from change_feed where profile_id = ? order by seq desc limit 1', answer.json.profileId);
		return { profileId: answer.json.profileId, state: answer.json.state, seq: row.seq };
	}

	/** Waits until the trigger's stored cursor has passed `seq` (it read, delivered and acknowledged it). */
	const passed = (seq) => waitFor(async () => (await cursor()) >= seq, `the trigger's cursor to pass #${seq}`);

	before(async () => {
		receiver = await startReceiver();
		run = await start({
			workflows: [path.join(REPO_ROOT, 'examples', 'outgoing-goal-on-change.json'), path.join(here, 'change-trigger')],
			replacements: { [EXAMPLE_RECEIVER_URL]: receiver.url },
		});
		storePath = path.join(run.userFolder, '.n8n', 'profile-webhooks', 'profiles.sqlite');
		// The trigger starts at the end of the feed on first activation: wait until it has.
		await waitFor(async () => fs.existsSync(storePath) && (await cursor()) !== undefined, 'the change trigger to be activated');
	});

	after(async () => {
		await run?.stop();
		await receiver?.close();
	});

	test('a profile updated by workflow A makes workflow B send exactly one request per selected change, none for another property', async () => {
		const email = uniqueEmail('goal');
		const created = await update(email, { tier: 'gold' });
		assert.equal(created.state, 'CREATED');
		selectedChanges.push({ profileId: created.profileId, property: 'tier', value: 'gold', seq: created.seq });
		await waitFor(() => goalRequests().length === 1, 'the first request');
		const [first] = goalRequests();
		assert.equal(first.method, 'POST');
		assert.equal(first.url, `/crm/goals/${created.profileId}`);
		assert.deepEqual(JSON.parse(first.body), { email, tier: 'gold', plan: '' });

		const unselected = await update(email, { nickname: 'Ada' });
		unselectedChanges++;
		await passed(unselected.seq);
		assert.equal(goalRequests().length, 1, 'no request for a change of an unselected property');

		const plan = await update(email, { plan: 'pro' });
		selectedChanges.push({ profileId: created.profileId, property: 'plan', value: 'pro', seq: plan.seq });
		await waitFor(() => goalRequests().length === 2, 'the request for the plan change');
		assert.deepEqual(JSON.parse(goalRequests()[1].body), { email, tier: 'gold', plan: 'pro' });
	});

	test('n8n restarted between two changes loses none, also a change written while it was down, and repeats none', async () => {
		const email = uniqueEmail('restart');
		const before = goalRequests().length;
		const one = await update(email, { tier: 'silver' });
		selectedChanges.push({ profileId: one.profileId, property: 'tier', value: 'silver', seq: one.seq });
		await waitFor(() => goalRequests().length === before + 1, 'the request before the restart');

		run = await run.restart({
			// A batch writes to the store while n8n is down: the built engine on the same file.
			whileStopped: async () => {
				const require = createRequire(import.meta.url);
				const { ProfileEngine } = require(path.join(REPO_ROOT, 'dist', 'lib', 'profiles', 'engine.js'));
				const { SqliteStore } = require(path.join(REPO_ROOT, 'dist', 'lib', 'store', 'sqlite', 'SqliteStore.js'));
				const engine = new ProfileEngine(new SqliteStore(storePath));
				try {
					await engine.applyToProfile(one.profileId, [{ property: 'tier', mode: 'set', values: ['platinum'] }], [], { source: 'e2e-batch' });
				} finally {
					await engine.close();
				}
				const [row] = await feedQuery('select seq from change_feed where profile_id = ? order by seq desc limit 1', one.profileId);
				selectedChanges.push({ profileId: one.profileId, property: 'tier', value: 'platinum', seq: row.seq, whileDown: true });
			},
		});
		await waitFor(() => goalRequests().length === before + 2, 'the request for the change made while n8n was down');
		assert.equal(JSON.parse(goalRequests()[before + 1].body).tier, 'platinum');

		const two = await update(email, { tier: 'diamond' });
		selectedChanges.push({ profileId: one.profileId, property: 'tier', value: 'diamond', seq: two.seq });
		await waitFor(() => goalRequests().length === before + 3, 'the request after the restart');
		assert.equal(JSON.parse(goalRequests()[before + 2].body).tier, 'diamond');
	});

	test('changes read again after a crash (cursor behind) start no second execution: n8n refuses the deduplication key', async () => {
		await passed(await lastSeq());
		const requestsBefore = goalRequests().length;
		const [{ n: executionsBefore }] = await run.query('select count(*) as n from execution_entity where workflowId = ?', WORKFLOW_B);
		const replayFrom = selectedChanges[selectedChanges.length - 2].seq - 1;
		// As if n8n had died after emitting the last two changes and before saving the cursor.
		run = await run.restart({
			whileStopped: async () => {
				const require = createRequire(import.meta.url);
				const { ProfileEngine } = require(path.join(REPO_ROOT, 'dist', 'lib', 'profiles', 'engine.js'));
				const { SqliteStore } = require(path.join(REPO_ROOT, 'dist', 'lib', 'store', 'sqlite', 'SqliteStore.js'));
				const engine = new ProfileEngine(new SqliteStore(storePath));
				try {
					await engine.setCursor(CONSUMER, replayFrom);
				} finally {
					await engine.close();
				}
			},
		});
		await passed(await lastSeq());
		const [{ n: executionsAfter }] = await run.query('select count(*) as n from execution_entity where workflowId = ?', WORKFLOW_B);
		assert.equal(executionsAfter, executionsBefore, 'no second execution for a change read again');
		assert.equal(goalRequests().length, requestsBefore, 'no second request');
		const log = fs.readFileSync(run.n8nLog, 'utf8');
		assert.match(log, /duplicate deduplication key/);
	});

	test('figures: changes made, requests received, duplicates, lost; commit -> execution start', async (t) => {
		await passed(await lastSeq());
		// Every request is for one selected change: the profile and the value the change set.
		const requests = goalRequests();
		const keys = requests.map((r) => {
			const body = JSON.parse(r.body);
			return `${r.url.split('/').pop()} ${body.tier}|${body.plan}`;
		});
		const duplicates = keys.length - new Set(keys).size;
		const delivered = new Set(requests.map((r) => r.url.split('/').pop() + ' ' + r.body));
		const lost = selectedChanges.filter(
			(change) => !requests.some((r) => r.url.endsWith(change.profileId) && JSON.parse(r.body)[change.property] === change.value),
		).length;

		// One execution per change, each with its change's deduplication key.
		const executions = await run.query(
			'select id, status, createdAt, startedAt, deduplicationKey from execution_entity where workflowId = ? order by id',
			WORKFLOW_B,
		);
		assert.deepEqual(
			executions.map((e) => e.deduplicationKey),
			selectedChanges.map((c) => `${CONSUMER}:${c.seq}`),
		);
		assert.ok(executions.every((e) => e.status === 'success'), JSON.stringify(executions));

		const latencies = [];
		for (const change of selectedChanges.filter((c) => !c.whileDown)) {
			const [row] = await feedQuery('select entry from change_feed where seq = ?', change.seq);
			const committedAt = Date.parse(JSON.parse(row.entry).committedAt);
			const execution = executions.find((e) => e.deduplicationKey === `${CONSUMER}:${change.seq}`);
			latencies.push(sqliteTime(execution.startedAt) - committedAt);
		}
		latencies.sort((a, b) => a - b);
		const figures = {
			selectedChangesMade: selectedChanges.length,
			unselectedChangesMade: unselectedChanges,
			requestsReceived: requests.length,
			distinctRequests: delivered.size,
			duplicates,
			lost,
			restarts: 2,
			commitToExecutionStartMs: { samples: latencies, max: latencies[latencies.length - 1] },
		};
		fs.writeFileSync(path.join(run.runDir, 'change-trigger-figures.json'), JSON.stringify(figures, null, 2));
		t.diagnostic(`change trigger figures: ${JSON.stringify(figures)}`);
		process.stderr.write(`[e2e] change trigger figures: ${JSON.stringify(figures)}\n`);

		assert.equal(requests.length, selectedChanges.length);
		assert.equal(duplicates, 0);
		assert.equal(lost, 0);
		assert.ok(SELECTED.every((p) => selectedChanges.some((c) => c.property === p)));
	});
});
