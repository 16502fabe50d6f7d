/**
 * The trigger's default path: empty, so n8n serves it at the node's webhook id (unique per node,
 * as n8n's Webhook node), with the OAuth2 token URL under it; the token URL is listed in the editor
 * only in OAuth2 mode.
 */
import { randomUUID } from 'node:crypto';

import { Workflow, type INode, type INodeParameters, type INodeType } from 'n8n-workflow';

import { ProfileWebhookApi } from '../../credentials/ProfileWebhookApi.credentials';
import { ProfileWebhookInboundOAuth2Api } from '../../credentials/ProfileWebhookInboundOAuth2Api.credentials';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { startWebhookNode, type WebhookNodeServer } from '../helpers/n8n';

const trigger = new ProfileWebhookTrigger();
const servers: WebhookNodeServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

/** What n8n (server and editor) computes from the node's webhook descriptions. */
function webhookValue(parameters: INodeParameters, webhookName: string, field: 'path' | 'ndvHideUrl'): unknown {
	const node: INode = {
		id: randomUUID(),
		name: 'Trigger',
		type: 'x.profileWebhookTrigger',
		typeVersion: 2,
		position: [0, 0],
		parameters,
		webhookId: '0b0b0b0b-1111-4222-8333-444444444444',
	};
	const nodeTypes = { getByName: () => trigger, getByNameAndVersion: () => trigger as INodeType, getKnownTypes: () => ({}) };
	const workflow = new Workflow({ id: 'w', nodes: [node], connections: {}, active: false, nodeTypes });
	const description = trigger.description.webhooks!.find((w) => w.name === webhookName)!;
	return workflow.expression.getSimpleParameterValue(workflow.getNode('Trigger')!, description[field] as string, 'internal', {});
}

describe('Profile Webhook Trigger: path', () => {
	it('defaults to an empty path, so the URL is the node\'s own webhook id', async () => {
		expect(trigger.description.defaultVersion).toBe(2);
		expect(trigger.description.properties.filter((p) => p.name === 'path').map((p) => [p.displayOptions?.show?.['@version'], p.default])).toEqual([
			[[1], 'profiles'],
			[[2], ''],
		]);
		const key = `k-${randomUUID()}`;
		const server = await startWebhookNode({
			nodeType: trigger,
			parameters: { authentication: 'apiKey', identifierProperty: 'email', createProfiles: true },
			credentials: [{ type: 'profileWebhookApi', data: { apiKey: key, headerName: 'X-API-Key' } }],
			credentialTypes: [new ProfileWebhookApi(), new ProfileWebhookInboundOAuth2Api()],
		});
		servers.push(server);
		expect(server.url).toMatch(/\/webhook\/f0e1d2c3-b4a5-4697-8899-aabbccddeeff$/);
		const answer = await fetch(`${server.url}?property=email&email=${randomUUID()}%40example.test`, {
			method: 'POST',
			headers: { 'x-api-key': key },
		});
		expect(answer.status).toBe(200);
		expect(await answer.json()).toMatchObject({ state: 'CREATED' });
	});

	it('a version 1 node saved with the old default (n8n stores no default values) still answers at /profiles', async () => {
		const key = `k-${randomUUID()}`;
		const server = await startWebhookNode({
			nodeType: trigger,
			typeVersion: 1,
			parameters: { authentication: 'apiKey', identifierProperty: 'email', createProfiles: true },
			credentials: [{ type: 'profileWebhookApi', data: { apiKey: key, headerName: 'X-API-Key' } }],
			credentialTypes: [new ProfileWebhookApi(), new ProfileWebhookInboundOAuth2Api()],
		});
		servers.push(server);
		expect(server.url).toMatch(/\/webhook\/profiles$/);
		const answer = await fetch(`${server.url}?property=email&email=${randomUUID()}%40example.test`, {
			method: 'POST',
			headers: { 'x-api-key': key },
		});
		expect(await answer.json()).toMatchObject({ state: 'CREATED' });
	});

	it('puts the token URL under the webhook id when the path is empty, and under the path otherwise', () => {
		expect(webhookValue({}, 'setup', 'path')).toBe('0b0b0b0b-1111-4222-8333-444444444444/oauth/token');
		expect(webhookValue({ path: 'crm' }, 'setup', 'path')).toBe('crm/oauth/token');
	});

	it('lists the token URL in the editor only in OAuth2 mode', () => {
		expect(webhookValue({ authentication: 'apiKey' }, 'setup', 'ndvHideUrl')).toBe(true);
		expect(webhookValue({ authentication: 'none' }, 'setup', 'ndvHideUrl')).toBe(true);
		expect(webhookValue({ authentication: 'oAuth2' }, 'setup', 'ndvHideUrl')).toBe(false);
	});
});
