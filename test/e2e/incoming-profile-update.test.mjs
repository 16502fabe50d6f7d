/**
 * examples/incoming-profile-update.json in a real n8n: Profile Webhook Trigger (API key, identifier
 * `email`, profiles created, `$.firstName` -> firstname set, `$.visits` -> visits sum) -> Set.
 * The contract is DESIGN.md section 2.2.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
	call,
	databaseBytes,
	executionData,
	executions,
	executionTables,
	lastExecutionId,
	n8n,
	nodeOutput,
	sleep,
	uniqueEmail,
	waitForExecution,
} from './helpers.mjs';

const WORKFLOW = 'exProfileUpdate1';
const STATES = ['CREATED', 'MODIFIED', 'UNCHANGED', 'NOTFOUND', 'CONSENT_MISMATCH'];

describe('incoming profile update (examples/incoming-profile-update.json)', () => {
	let run;
	const url = (email) => `${run.baseUrl}/webhook/profile-update?property=email&email=${encodeURIComponent(email)}`;
	const withKey = (key) => ({ 'X-API-Key': key });

	before(async () => {
		run = await n8n();
	});
	after(() => run?.release());

	test('a BlueConic-style update is answered with its state: CREATED, then UNCHANGED, then MODIFIED', async () => {
		const email = uniqueEmail('ada');
		const first = await call(url(email), { headers: withKey(run.apiKey), body: { firstName: 'Ada' } });
		assert.equal(first.status, 200, first.text);
		assert.equal(first.json?.state, 'CREATED', first.text);
		assert.equal(typeof first.json.profileId, 'string');

		// Only set-mode fields: sending the same request again changes nothing.
		const again = await call(url(email), { headers: withKey(run.apiKey), body: { firstName: 'Ada' } });
		assert.equal(again.status, 200, again.text);
		assert.deepEqual(again.json, { ...again.json, state: 'UNCHANGED', profileId: first.json.profileId });

		const visit = await call(url(email), { headers: withKey(run.apiKey), body: { firstName: 'Ada', visits: 2 } });
		assert.equal(visit.status, 200, visit.text);
		assert.equal(visit.json?.state, 'MODIFIED', visit.text);
		assert.equal(visit.json.profileId, first.json.profileId);
	});

	test('GET with the identifier in the URL is accepted too', async () => {
		const answer = await call(url(uniqueEmail('get')), { method: 'GET', headers: withKey(run.apiKey) });
		assert.equal(answer.status, 200, answer.text);
		assert.ok(STATES.includes(answer.json?.state), answer.text);
	});

	test('a wrong API key is answered 401 and starts no execution', async () => {
		const before = (await executions(run, WORKFLOW)).length;
		const answer = await call(url(uniqueEmail('intruder')), { headers: withKey('not-the-key'), body: { firstName: 'Eve' } });
		assert.equal(answer.status, 401, answer.text);
		assert.equal(answer.json?.error?.code, 'UNAUTHORIZED', answer.text);
		assert.equal(typeof answer.json.error.message, 'string');
		const missing = await call(url(uniqueEmail('nokey')), { body: { firstName: 'Eve' } });
		assert.equal(missing.status, 401, missing.text);
		await sleep(1500); // an execution would be recorded well within this
		assert.equal((await executions(run, WORKFLOW)).length, before, 'no execution recorded');
	});

	test("the downstream Set node receives the trigger's item", async () => {
		const email = uniqueEmail('grace');
		const beforeId = await lastExecutionId(run);
		const answer = await call(url(email), { headers: withKey(run.apiKey), body: { firstName: 'Grace', visits: 3 } });
		assert.equal(answer.status, 200, answer.text);

		const execution = await waitForExecution(run, WORKFLOW, beforeId);
		assert.equal(execution.status, 'success');
		const { data } = await executionData(run, execution.id);
		const [item] = nodeOutput(data, 'Profile Webhook Trigger');
		assert.equal(item.state, answer.json.state);
		assert.equal(item.profileId, answer.json.profileId);
		assert.deepEqual(item.identifier, { property: 'email', value: email });
		assert.deepEqual(item.changes?.firstname?.after, ['Grace']);

		const [tagged] = nodeOutput(data, 'Tag the update');
		assert.equal(tagged.handledBy, 'incoming-profile-update example');
		assert.equal(tagged.summary, `${answer.json.state} ${answer.json.profileId}`);
		assert.equal(tagged.profileId, item.profileId, "the trigger's fields pass through");
	});

	test('the API key is absent from everything n8n stored about the executions', async () => {
		// Make sure at least one execution that carried the key in its request was recorded.
		const beforeId = await lastExecutionId(run);
		const answer = await call(url(uniqueEmail('secret')), { headers: withKey(run.apiKey), body: { firstName: 'Kim' } });
		assert.equal(answer.status, 200, answer.text);
		await waitForExecution(run, WORKFLOW, beforeId);

		const recorded = await executions(run, WORKFLOW);
		assert.ok(recorded.length > 0);
		for (const [table, text] of Object.entries(await executionTables(run))) {
			assert.ok(!text.includes(run.apiKey), `the API key appears in ${table}`);
		}
		assert.ok(!databaseBytes(run).includes(run.apiKey), "the API key appears in n8n's database files");
		assert.ok(!fs.readFileSync(run.n8nLog, 'utf8').includes(run.apiKey), "the API key appears in n8n's log");
	});
});
