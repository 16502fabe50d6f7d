/**
 * The Profile Webhook Trigger served in n8n-core's real WebhookContext on 127.0.0.1 (API key
 * authentication, the real embedded store of this test run), and a client that calls it.
 */
import { randomUUID } from 'node:crypto';

import type { INodeParameters } from 'n8n-workflow';

import { ProfileWebhookApi } from '../../credentials/ProfileWebhookApi.credentials';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { startWebhookNode, type WebhookNodeServer } from './n8n';

export const TRIGGER_API_KEY = 'k3y-' + randomUUID();

export interface TriggerAnswer {
	status: number;
	body: Record<string, unknown>;
	text: string;
}

export interface TriggerServer extends WebhookNodeServer {
	/** POSTs (or sends `method`) to the trigger with the API key header. */
	send(
		query: string,
		init?: { method?: string; headers?: Record<string, string>; body?: string; json?: unknown; contentType?: string },
	): Promise<TriggerAnswer>;
}

export async function serveTrigger(parameters: INodeParameters, nodeId?: string): Promise<TriggerServer> {
	const server = await startWebhookNode({
		...(nodeId ? { nodeId } : {}),
		nodeType: new ProfileWebhookTrigger(),
		parameters: { path: `t-${randomUUID().slice(0, 8)}`, authentication: 'apiKey', identifierProperty: 'email', ...parameters },
		credentials: [{ type: 'profileWebhookApi', data: { apiKey: TRIGGER_API_KEY, headerName: 'X-API-Key', sendIn: 'header' } }],
		credentialTypes: [new ProfileWebhookApi()],
	});
	return Object.assign(server, {
		async send(query: string, init: Parameters<TriggerServer['send']>[1] = {}): Promise<TriggerAnswer> {
			const headers: Record<string, string> = { 'X-API-Key': TRIGGER_API_KEY, ...init.headers };
			let body = init.body;
			if (init.json !== undefined) body = JSON.stringify(init.json);
			if (body !== undefined) headers['content-type'] ??= init.contentType ?? 'application/json';
			const res = await fetch(`${server.url}${query}`, { method: init.method ?? 'POST', headers, body });
			const text = await res.text();
			let parsed: Record<string, unknown> = {};
			try {
				parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
			} catch {
				parsed = { unparsed: text };
			}
			return { status: res.status, body: parsed, text };
		},
	});
}
