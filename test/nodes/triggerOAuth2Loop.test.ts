/**
 * The full loop, both nodes in n8n-core's real contexts: a Profile Webhook (ExecuteContext) with a
 * client-credentials credential fetches its token from a Profile Webhook Trigger's own token URL
 * through n8n-core's OAuth2 code (requestOAuth2), posts to the trigger (WebhookContext), and the
 * trigger updates the profile in the store they share.
 */
import { randomUUID } from 'node:crypto';

import type { INodeExecutionData } from 'n8n-workflow';

import { ProfileWebhookClientCredentialsOAuth2Api } from '../../credentials/ProfileWebhookClientCredentialsOAuth2Api.credentials';
import { ProfileWebhookInboundOAuth2Api } from '../../credentials/ProfileWebhookInboundOAuth2Api.credentials';
import type { Profile } from '../../lib/profiles/types';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileWebhook } from '../../nodes/ProfileWebhook/ProfileWebhook.node';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { realClock, shiftClock, useShiftableClock } from '../helpers/clock';
import { runExecuteNode, startWebhookNode, TestCredentialsHelper, type WebhookNodeServer } from '../helpers/n8n';

const CLIENT = { id: 'profile-sync', secret: `sync-${randomUUID()}` };
const CC = 'profileWebhookClientCredentialsOAuth2Api';

let trigger: WebhookNodeServer;

async function serveTrigger(lifetime: number, path: string): Promise<WebhookNodeServer> {
	return await startWebhookNode({
		nodeType: new ProfileWebhookTrigger(),
		parameters: {
			path,
			authentication: 'oAuth2',
			identifierProperty: 'email',
			createProfiles: false,
			mappings: {
				mapping: [
					{ field: '$.tier', property: 'tier', mode: 'set' },
					{ field: '$.source', property: 'sources', mode: 'add' },
				],
			},
		},
		credentials: [
			{
				type: 'profileWebhookInboundOAuth2Api',
				data: {
					verification: 'registeredApplicationsOnly',
					registeredApplications: `${CLIENT.id}:${CLIENT.secret}`,
					tokenSigningSecret: `loop-signing-${randomUUID()}`,
					tokenLifetimeSeconds: lifetime,
					requiredScopes: 'profile:write',
					clockSkewSeconds: 0,
				},
			},
		],
		credentialTypes: [new ProfileWebhookInboundOAuth2Api()],
	});
}

beforeAll(async () => {
	trigger = await serveTrigger(300, 'loop-profiles');
});
afterAll(async () => trigger.close());

async function newProfiles(count: number): Promise<Profile[]> {
	const store = getProfileEngine();
	return await Promise.all(
		Array.from({ length: count }, () =>
			store.create({ properties: { email: [`loop-${randomUUID().slice(0, 8)}@example.test`], tier: ['silver'] } }),
		),
	);
}

/** n8n's credential store holding the Profile Webhook's client-credentials credential. */
function clientCredential(server: WebhookNodeServer, secret = CLIENT.secret, authentication: 'header' | 'body' = 'header') {
	const helper = new TestCredentialsHelper([new ProfileWebhookClientCredentialsOAuth2Api()]);
	const id = randomUUID();
	helper.add({
		type: CC,
		id,
		name: 'Trigger token URL',
		data: {
			grantType: 'clientCredentials',
			accessTokenUrl: `${server.url}/oauth/token`,
			clientId: CLIENT.id,
			clientSecret: secret,
			scope: 'profile:write',
			authentication,
		},
	});
	const run = async (profiles: Profile[]) => {
		const { outputs } = await runExecuteNode({
			nodeType: new ProfileWebhook(),
			parameters: {
				profileSource: 'input',
				triggerOn: 'always',
				method: 'POST',
				url: `${server.url}?property=email&email={{email.0}}`,
				bodyFormat: 'json',
				body: '{"tier": "gold", "source": "loop"}',
				authentication: 'oAuth2ClientCredentials',
				options: { retries: 0 },
			},
			items: profiles.map((p) => ({ json: { ...p } as unknown as INodeExecutionData['json'] })),
			credentials: [{ type: CC, id, name: 'Trigger token URL', data: helper.byId.get(id)!.data }],
			credentialsHelper: helper,
			mode: 'trigger',
		});
		return { sent: outputs[0], skipped: outputs[1] };
	};
	return { helper, id, run, stored: () => helper.byId.get(id)!.data };
}

describe('Trigger OAuth2: the full loop through n8n-core', () => {
	it.each(['header', 'body'] as const)(
		'a Profile Webhook with client credentials (%s) fetches a token from the trigger and updates profiles through it',
		async (authentication) => {
			const profiles = await newProfiles(3);
			const credential = clientCredential(trigger, CLIENT.secret, authentication);
			const executions = trigger.executions.length;
			const { sent, skipped } = await credential.run(profiles);

			expect(skipped).toHaveLength(0);
			expect(sent.map((item) => (item.json.response as { status: number; body: unknown }).status)).toEqual([200, 200, 200]);
			expect(sent.map((item) => (item.json.response as { body: unknown }).body)).toEqual(
				profiles.map((p) => ({ state: 'MODIFIED', profileId: p.id })),
			);
			for (const profile of profiles) {
				const now = await getProfileEngine().get(profile.id);
				expect(now?.properties).toMatchObject({ tier: ['gold'], sources: ['loop'] });
			}
			expect(trigger.executions).toHaveLength(executions + 3);

			// One token, fetched once and kept in the credential as n8n keeps it.
			const tokenData = credential.stored().oauthTokenData as { access_token: string; token_type: string; scope: string };
			expect(tokenData).toMatchObject({ token_type: 'Bearer', scope: 'profile:write' });
			expect(credential.helper.updates).toHaveLength(1);
			// The trigger's items never carry it.
			expect(JSON.stringify(trigger.executions)).not.toContain(tokenData.access_token);
		},
	);

	it('after the token expires, the trigger\'s 401 makes n8n fetch a new one and the request succeeds', async () => {
		const short = await serveTrigger(1, 'loop-short');
		useShiftableClock();
		try {
			const credential = clientCredential(short);
			const [first, second] = await newProfiles(2);
			expect((await credential.run([first])).sent).toHaveLength(1);
			const firstToken = (credential.stored().oauthTokenData as { access_token: string }).access_token;
			shiftClock(2100); // past the token's 1 s lifetime, without waiting for it
			const { sent } = await credential.run([second]);
			expect((sent[0].json.response as { body: unknown }).body).toEqual({ state: 'MODIFIED', profileId: second.id });
			const secondToken = (credential.stored().oauthTokenData as { access_token: string }).access_token;
			expect(secondToken).not.toBe(firstToken);
			// Stored twice: the first token, then the one fetched after the 401.
			expect(credential.helper.updates).toHaveLength(2);
		} finally {
			realClock();
			await short.close();
		}
	});

	it('a wrong client secret gets no token and changes no profile', async () => {
		const [profile] = await newProfiles(1);
		const credential = clientCredential(trigger, `${CLIENT.secret}-wrong`);
		const outcome = await credential.run([profile]).catch((error: unknown) => error);
		expect(outcome).toBeInstanceOf(Error);
		expect((outcome as Error).message).toContain(
			'could not get an access token (invalid_client: Client authentication failed: unknown client or wrong secret)',
		);
		expect((await getProfileEngine().get(profile.id))?.properties.tier).toEqual(['silver']);
	});
});
