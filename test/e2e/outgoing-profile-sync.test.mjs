/**
 * examples/outgoing-profile-sync.json in a real n8n: Profile Webhook Trigger -> Profile Webhook
 * (segment "customers", sends when `firstname` changes) -> the suite's receiver, whose answer
 * (`contactId`) is mapped back into the profile as `crm_contact`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, executionData, lastExecutionId, n8n, nodeOutput, received, uniqueEmail, waitForExecution } from './helpers.mjs';

const WORKFLOW = 'exProfileSync01';

/** The items of a node's second output (the Profile Webhook's Skipped). */
function skippedOutput(data, nodeName) {
	const runs = data.resultData?.runData?.[nodeName];
	assert.ok(runs, `node "${nodeName}" did not run`);
	return (runs[0].data?.main?.[1] ?? []).map((item) => item.json);
}

describe('outgoing profile sync (examples/outgoing-profile-sync.json)', () => {
	let run;
	const url = (email) => `${run.baseUrl}/webhook/profile-sync?property=email&email=${encodeURIComponent(email)}`;

	before(async () => {
		run = await n8n();
	});
	after(() => run?.release());

	async function update(email, body) {
		const beforeId = await lastExecutionId(run);
		const answer = await call(url(email), { headers: { 'X-API-Key': run.apiKey }, body });
		assert.equal(answer.status, 200, answer.text);
		const execution = await waitForExecution(run, WORKFLOW, beforeId);
		assert.equal(execution.status, 'success');
		const { data, raw } = await executionData(run, execution.id);
		return { answer, data, raw };
	}

	test('a changed customer is sent to the CRM with a templated URL, header and JSON body, and the answer mapped back', async () => {
		const email = uniqueEmail('crm+ada');
		const before = (await received(run)).length;
		const { answer, data, raw } = await update(email, { firstName: 'Ada "the first"', segment: 'customers' });
		assert.equal(answer.json.state, 'CREATED');

		const requests = (await received(run)).slice(before);
		assert.equal(requests.length, 1, JSON.stringify(requests));
		const [request] = requests;
		assert.equal(request.method, 'POST');
		assert.equal(request.url, `/crm/contacts/${encodeURIComponent(email)}`);
		assert.equal(request.headers['x-profile-id'], answer.json.profileId);
		assert.deepEqual(JSON.parse(request.body), { email, firstName: 'Ada "the first"', segments: ['customers'] });

		const [sent] = nodeOutput(data, 'Send to CRM');
		assert.equal(sent.profileId, answer.json.profileId);
		assert.equal(sent.response.status, 200);
		assert.match(sent.profile.properties.crm_contact[0], /^contact-\d+$/);
		assert.equal(sent.request.method, 'POST');
		assert.ok(!raw.includes(run.apiKey), 'the API key is not in the execution data');
	});

	test('the same update again changes nothing, so nothing is sent: the item leaves on Skipped', async () => {
		const email = uniqueEmail('repeat');
		await update(email, { firstName: 'Bo', segment: 'customers' });
		const before = (await received(run)).length;
		const { answer, data } = await update(email, { firstName: 'Bo', segment: 'customers' });
		assert.equal(answer.json.state, 'UNCHANGED');
		assert.equal((await received(run)).length, before, 'no request for an unchanged profile');
		assert.deepEqual(nodeOutput(data, 'Send to CRM'), []);
		const [skipped] = skippedOutput(data, 'Send to CRM');
		assert.equal(skipped.skipped.code, 'NO_CHANGE');
	});

	test('a profile outside the selected segments is skipped with the reason', async () => {
		const before = (await received(run)).length;
		const { data } = await update(uniqueEmail('prospect'), { firstName: 'Cy', segment: 'prospects' });
		assert.equal((await received(run)).length, before);
		const [skipped] = skippedOutput(data, 'Send to CRM');
		assert.equal(skipped.skipped.code, 'NOT_IN_SEGMENT');
		assert.match(skipped.skipped.reason, /customers/);
	});
});
