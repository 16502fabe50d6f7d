import {
	NodeConnectionTypes,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { startWebhookNode, type WebhookNodeServer } from '../helpers/n8n';

/** A node made for this test alone: it reports what n8n resolved for its parameters. */
class ParameterEcho implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Parameter Echo',
		name: 'parameterEcho',
		group: ['trigger'],
		version: 1,
		description: 'Test node',
		defaults: { name: 'Parameter Echo' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		webhooks: [
			{
				name: 'default',
				httpMethod: '={{$parameter["method"]}}',
				path: '={{$parameter["path"]}}',
				isFullPath: true,
				responseMode: 'onReceived',
				responseData: '',
			},
		],
		properties: [
			{ displayName: 'Path', name: 'path', type: 'string', default: 'echo' },
			{ displayName: 'Method', name: 'method', type: 'string', default: 'POST' },
			{ displayName: 'Greeting', name: 'greeting', type: 'string', default: 'hello' },
			{ displayName: 'Computed', name: 'computed', type: 'string', default: '' },
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				default: {},
				options: [{ displayName: 'Limit', name: 'limit', type: 'number', default: 7 }],
			},
		],
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const req = this.getRequestObject();
		const resolved = {
			greeting: this.getNodeParameter('greeting'),
			computed: this.getNodeParameter('computed'),
			limit: this.getNodeParameter('options.limit', 3),
			query: this.getQueryData(),
			body: this.getBodyData(),
			ip: req.ip,
			mode: this.getMode(),
		};
		return { webhookResponse: resolved, workflowData: [[{ json: resolved }]] };
	}
}

describe('test harness: a node inside n8n-core’s real WebhookContext', () => {
	let server: WebhookNodeServer;

	beforeAll(async () => {
		server = await startWebhookNode({
			nodeType: new ParameterEcho(),
			parameters: {
				path: 'echo/v1',
				computed: '={{ $parameter.greeting + " world, " + (20 + 22) }}',
				options: { limit: 9 },
			},
		});
	});
	afterAll(async () => server.close());

	it('resolves defaults, expressions and collection options as n8n does', async () => {
		const res = await fetch(`${server.baseUrl}/webhook/echo/v1?a[b]=1&c=2&c=3`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ hello: 'there' }),
		});
		expect(res.status).toBe(200);
		const body = await res.json();
		expect(body).toEqual({
			greeting: 'hello',
			computed: 'hello world, 42',
			limit: 9,
			query: { a: { b: '1' }, c: ['2', '3'] },
			body: { hello: 'there' },
			ip: '127.0.0.1',
			mode: 'webhook',
		});
		expect(server.executions).toHaveLength(1);
	});

	it('serves the editor test URL in manual mode and refuses unknown paths and methods', async () => {
		const test = await fetch(`${server.baseUrl}/webhook-test/echo/v1`, {
			method: 'POST',
		});
		expect(((await test.json()) as { mode: string }).mode).toBe('manual');
		expect((await fetch(`${server.baseUrl}/webhook/nope`, { method: 'POST' })).status).toBe(404);
		expect((await fetch(server.url, { method: 'GET' })).status).toBe(404);
	});

	it('parses bodies the way n8n does: forms flat, malformed JSON refused before the node', async () => {
		const form = await fetch(server.url, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: 'data%5Bmerges%5D%5BEMAIL%5D=a%40b.c&type=subscribe',
		});
		expect(((await form.json()) as { body: unknown }).body).toEqual({ 'data[merges][EMAIL]': 'a@b.c', type: 'subscribe' });
		const before = server.executions.length;
		const bad = await fetch(server.url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{"broken":',
		});
		expect(bad.status).toBe(422);
		expect(server.executions).toHaveLength(before);
	});
});
