/**
 * The OAuth 2.0 loop in a real n8n (issue 8): a Profile Webhook with the client-credentials
 * credential fetches a token from a Profile Webhook Trigger's own token URL
 * (`<path>/oauth/token`) and updates a profile through that trigger.
 *
 * It runs its own n8n: the client-credentials credential must name the token URL, so the port is
 * chosen before the credentials are imported.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { freePort, preflight, start } from '../../scripts/n8n/harness.mjs';
import { call, executions, sleep, uniqueEmail } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLIENT_ID = 'profile-sync';
const CLIENT_SECRET = `loop-secret-${Math.random().toString(36).slice(2)}-0123456789`;
const PLACEHOLDER = 'http://127.0.0.1:15678';

describe('OAuth 2.0 loop: Profile Webhook -> the trigger’s token URL -> the trigger', () => {
	let run;
	let token;
	const triggerUrl = (email) => `${run.baseUrl}/webhook/oauth-loop?property=email&email=${encodeURIComponent(email)}`;

	before(async () => {
		const port = await freePort();
		const baseUrl = `http://127.0.0.1:${port}`;
		run = await start({
			port,
			workflows: [path.join(here, 'oauth-loop')],
			replacements: { [PLACEHOLDER]: baseUrl },
			credentials: [
				{
					id: 'inboundOAuthLp1',
					name: 'Inbound OAuth2 (loop)',
					type: 'profileWebhookInboundOAuth2Api',
					data: {
						verification: 'registeredApplicationsOnly',
						registeredApplications: `${CLIENT_ID}:${CLIENT_SECRET}`,
						tokenSigningSecret: `signing-${Math.random().toString(36).slice(2)}-0123456789abcdef`,
						tokenLifetimeSeconds: 300,
						requiredScopes: 'profile:write',
						clockSkewSeconds: 60,
					},
				},
				{
					id: 'triggerClientCC1',
					name: 'Trigger token URL (loop)',
					type: 'profileWebhookClientCredentialsOAuth2Api',
					data: {
						grantType: 'clientCredentials',
						accessTokenUrl: `${baseUrl}/webhook/oauth-loop/oauth/token`,
						clientId: CLIENT_ID,
						clientSecret: CLIENT_SECRET,
						scope: 'profile:write',
						authentication: 'header',
					},
				},
			],
		});
		assert.equal(run.baseUrl, baseUrl);
		// The token URL is the trigger's second path: make sure n8n serves it before the tests.
		const tokenHook = { webhookPath: 'oauth-loop/oauth/token', method: 'POST' };
		for (let i = 0; i < 120 && (await preflight(run.baseUrl, tokenHook)) !== 204; i++) await sleep(250);
	});
	after(async () => run?.stop());

	test('the token URL issues a token to a registered application and refuses a wrong secret', async () => {
		const basic = (secret) => `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}`;
		const form = { 'content-type': 'application/x-www-form-urlencoded' };
		const issued = await call(`${run.baseUrl}/webhook/oauth-loop/oauth/token`, {
			headers: { ...form, authorization: basic(CLIENT_SECRET) },
			body: 'grant_type=client_credentials',
		});
		assert.equal(issued.status, 200, issued.text);
		assert.equal(issued.json.token_type, 'Bearer');
		token = issued.json.access_token;

		const refused = await call(`${run.baseUrl}/webhook/oauth-loop/oauth/token`, {
			headers: { ...form, authorization: basic('wrong') },
			body: 'grant_type=client_credentials',
		});
		assert.equal(refused.status, 401, refused.text);
		assert.equal(refused.json.error, 'invalid_client');
	});

	test('the trigger takes its own tokens and refuses a tampered one with WWW-Authenticate', async () => {
		const email = uniqueEmail('bearer');
		const created = await call(triggerUrl(email), { headers: { authorization: `Bearer ${token}` }, body: { tier: 'silver' } });
		assert.equal(created.status, 200, created.text);
		assert.equal(created.json.state, 'CREATED');

		const before = (await executions(run, 'oauthLoopTrig01')).length;
		const tampered = await call(triggerUrl(email), { headers: { authorization: `Bearer ${token}x` }, body: { tier: 'bad' } });
		assert.equal(tampered.status, 401, tampered.text);
		assert.match(tampered.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
		assert.equal((await executions(run, 'oauthLoopTrig01')).length, before, 'a refused request starts no execution');
	});

	test('a Profile Webhook with the client-credentials credential updates the profile through the trigger', async () => {
		const email = uniqueEmail('loop');
		const created = await call(triggerUrl(email), { headers: { authorization: `Bearer ${token}` }, body: { tier: 'silver' } });
		assert.equal(created.json.state, 'CREATED', created.text);

		const loop = await call(`${run.baseUrl}/webhook/oauth-loop-run?email=${encodeURIComponent(email)}`, { method: 'GET' });
		assert.equal(loop.status, 200, loop.text);
		assert.equal(loop.json.profileId, created.json.profileId, loop.text);
		assert.equal(loop.json.response?.status, 200, loop.text);
		assert.equal(loop.json.response?.body?.state, 'MODIFIED', loop.text);

		// The loop set tier to gold and added the source: sending the same values again changes nothing.
		const again = await call(triggerUrl(email), {
			headers: { authorization: `Bearer ${token}` },
			body: { tier: 'gold', source: 'loop' },
		});
		assert.equal(again.json.state, 'UNCHANGED', again.text);
	});
});
