/**
 * The Profiles node in a real n8n, on the store the triggers write: a profile written by the
 * Profile Webhook Trigger (examples/incoming-profile-update.json) is read, put in a segment by a
 * definition (test/e2e/fixtures/profiles-node.json), exported and erased through
 * examples/profiles-gdpr.json; afterwards the Profiles node finds nothing and the store's files no
 * longer hold the person's e-mail address. The preference centre records consent.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call, executionData, lastExecutionId, n8n, nodeOutput, ownerCookie, uniqueEmail, waitForExecution } from './helpers.mjs';

describe('Profiles node (examples/profiles-gdpr.json, fixtures/profiles-node.json)', () => {
	let run;
	before(async () => {
		run = await n8n();
	});
	after(() => run?.release());

	const withKey = () => ({ 'X-API-Key': run.apiKey });
	const byEmail = (webhookPath, email) => `${run.baseUrl}/webhook/${webhookPath}?property=email&email=${encodeURIComponent(email)}`;
	const post = (webhookPath, body) => call(`${run.baseUrl}/webhook/${webhookPath}`, { body });

	async function writeWithTrigger(email, body) {
		const answer = await call(byEmail('profile-update', email), { headers: withKey(), body });
		assert.equal(answer.status, 200, answer.text);
		return answer.json;
	}

	test('a profile written by the trigger is read, segmented, exported and erased through the Profiles node', async () => {
		const email = uniqueEmail('profiles-node');
		// The definition names the first name, not the address: a definition holds the values its
		// conditions name, and erasing a profile does not rewrite definitions.
		const token = Math.random().toString(36).slice(2, 10);
		const firstname = `Ada ${token}`;
		const segment = `e2e segment ${token}`;
		const written = await writeWithTrigger(email, { firstName: firstname, visits: 3 });
		assert.equal(written.state, 'CREATED');
		const profileId = written.profileId;

		// get
		const got = await post('e2e-profiles-get', { email });
		assert.equal(got.status, 200, got.text);
		assert.equal(got.json.found, true);
		assert.equal(got.json.profileId, profileId);
		assert.deepEqual(got.json.profile.properties, { email: [email], firstname: [firstname], visits: [3] });
		assert.deepEqual(got.json.profile.timeline, []);

		// a definition that matches it: conditions from n8n's filter parameter, the right value an expression
		const beforeId = await lastExecutionId(run);
		const member = await post('e2e-profiles-segment', { email, firstname, segment });
		assert.equal(member.status, 200, member.text);
		assert.deepEqual(member.json.profile.properties.segments, [segment]);
		const execution = await waitForExecution(run, 'e2eProfilesNode1', beforeId);
		assert.equal(execution.status, 'success');
		const [defined] = nodeOutput((await executionData(run, execution.id)).data, 'Define segment');
		assert.equal(defined.segment, segment);
		assert.equal(defined.entered, 1);
		assert.equal(defined.scanned, defined.total);
		assert.deepEqual(defined.conditions, {
			combinator: 'and',
			conditions: [
				{ property: 'firstname', operator: 'equals', value: firstname },
				{ property: 'visits', operator: 'gte', value: 2 },
			],
		});

		// The editor's pickers, as n8n serves them to the editor (its dynamic parameters endpoint): the
		// Profile Webhook's Segments offers All Visitors and the new definition; the Profiles node's
		// Delete offers the definition only.
		const cookie = await ownerCookie(run.baseUrl);
		const options = async (name, methodName, path, currentNodeParameters) => {
			const answer = await call(`${run.baseUrl}/rest/dynamic-node-parameters/options`, {
				headers: { cookie },
				body: { nodeTypeAndVersion: { name, version: 1 }, path, methodName, currentNodeParameters },
			});
			assert.equal(answer.status, 200, answer.text);
			return answer.json.data.map((option) => option.value);
		};
		const offered = await options('n8n-nodes-profile-webhooks.profileWebhook', 'getSegments', 'segments', { segments: [] });
		assert.equal(offered[0], 'All Visitors');
		assert.ok(offered.includes(segment), JSON.stringify(offered));
		const deletable = await options('n8n-nodes-profile-webhooks.profiles', 'getDefinedSegments', 'segmentToDelete', { resource: 'segment', operation: 'delete' });
		assert.ok(deletable.includes(segment) && !deletable.includes('All Visitors'), JSON.stringify(deletable));

		// export: the data-access request, authenticated by the trigger's API key
		const exported = await call(byEmail('gdpr-access', email), { headers: withKey() });
		assert.equal(exported.status, 200, exported.text);
		assert.equal(exported.json.found, true);
		assert.equal(exported.json.profileId, profileId);
		assert.deepEqual(exported.json.profile.properties.segments, [segment]);
		assert.deepEqual(
			exported.json.changes.map((entry) => [entry.state, entry.source.split(':')[0], entry.segmentsEntered]),
			[
				['CREATED', 'trigger', []],
				['MODIFIED', 'segment', [segment]],
			],
		);
		assert.equal(exported.json.changes[1].source, `segment:${segment}`);
		assert.deepEqual(exported.json.sentSnapshots, []);

		// erase
		const storeFiles = ['', '-wal'].map((suffix) => path.join(path.dirname(run.dbPath), 'profile-webhooks', `profiles.sqlite${suffix}`));
		const holding = () => storeFiles.filter((file) => fs.existsSync(file) && fs.readFileSync(file).includes(Buffer.from(email)));
		assert.ok(holding().length > 0, 'the store holds the address before the erasure (or the check below proves nothing)');
		const erased = await call(byEmail('gdpr-erasure', email), { headers: withKey() });
		assert.equal(erased.status, 200, erased.text);
		assert.deepEqual(erased.json, { erased: true, profileIds: [profileId], identifier: { property: 'email', value: email }, domainGroup: 'DEFAULT' });

		// afterwards nothing is found, by the Profiles node or by the trigger, and the bytes are gone
		const gone = await post('e2e-profiles-get', { email });
		assert.equal(gone.status, 200, gone.text);
		assert.equal(gone.json.found, false);
		assert.equal(gone.json.profile, null);
		const again = await call(byEmail('gdpr-access', email), { headers: withKey() });
		assert.equal(again.status, 200, again.text);
		assert.equal(again.json.state, 'NOTFOUND');
		assert.deepEqual(holding(), []);

		const deleted = await post('e2e-profiles-segment-delete', { segment });
		assert.equal(deleted.status, 200, deleted.text);
		assert.equal(deleted.json.deleted, true);
	});

	test('the preference centre records consent and refusal for the profile the trigger matched', async () => {
		const email = uniqueEmail('preferences');
		const { profileId } = await writeWithTrigger(email, { firstName: 'Bo' });
		const answer = await call(byEmail('preference-centre', email), {
			headers: withKey(),
			body: { consented: ['newsletter', 'analytics'], refused: 'profiling' },
		});
		assert.equal(answer.status, 200, answer.text);
		assert.equal(answer.json.state, 'MODIFIED');
		assert.equal(answer.json.profileId, profileId);
		assert.deepEqual(answer.json.changes.consented_objectives.after, ['newsletter', 'analytics']);
		assert.deepEqual(answer.json.changes.refused_objectives.after, ['profiling']);

		const unauthenticated = await call(byEmail('gdpr-erasure', email));
		assert.equal(unauthenticated.status, 401, 'erasure needs the API key');
		assert.equal((await post('e2e-profiles-get', { email })).json.found, true);
	});
});
