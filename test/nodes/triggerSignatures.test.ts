/**
 * Signed webhooks through n8n-core's real WebhookContext: the HMAC is checked over `req.rawBody`
 * as n8n's body parser leaves it for JSON, form and text bodies, before anything is parsed or
 * written. Signatures are computed here with node:crypto, independently of lib/inbound/signatures.
 */
import { createHmac, randomUUID } from 'node:crypto';

import type { INodeParameters } from 'n8n-workflow';

import { ProfileWebhookSignatureApi } from '../../credentials/ProfileWebhookSignatureApi.credentials';
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { runWebhookMethod, startWebhookNode, type TestCredential, type WebhookNodeServer } from '../helpers/n8n';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const SW_SECRET = `whsec_${KEY.toString('base64')}`;
const PLAIN_SECRET = 'a-github-or-stripe-secret-0123456789';

const parameters = (signature: string, options: INodeParameters = {}): INodeParameters => ({
	path: `signed-${signature}`,
	authentication: 'none',
	signature,
	identifierProperty: 'email',
	createProfiles: true,
	mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] },
	options,
});

const credential = (secret: string, previousSecret = ''): TestCredential => ({
	type: 'profileWebhookSignatureApi',
	data: { secret, previousSecret },
});

let store: ProfileEngine;
const servers: WebhookNodeServer[] = [];

async function serve(signature: string, secret: string, options: INodeParameters = {}): Promise<WebhookNodeServer> {
	const server = await startWebhookNode({
		nodeType: new ProfileWebhookTrigger(),
		parameters: parameters(signature, options),
		credentials: [credential(secret)],
		credentialTypes: [new ProfileWebhookSignatureApi()],
	});
	servers.push(server);
	return server;
}

beforeAll(() => {
	store = getProfileEngine();
});

afterAll(async () => {
	await Promise.all(servers.map((s) => s.close()));
});

const email = () => `s-${randomUUID().slice(0, 8)}@example.test`;
const now = () => Math.floor(Date.now() / 1000);

function standardWebhooksHeaders(body: string, { id = `msg_${randomUUID()}`, timestamp = now(), key = KEY } = {}) {
	const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
	return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

async function post(url: string, body: string, headers: Record<string, string>) {
	const res = await fetch(url, { method: 'POST', headers, body });
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function visitsOf(address: string): Promise<unknown> {
	const found = await store.findByIdentifier('DEFAULT', 'email', address);
	return found.profile?.properties.visits;
}

describe('Trigger signatures: Standard Webhooks over the raw body', () => {
	let server: WebhookNodeServer;
	beforeAll(async () => {
		server = await serve('standardWebhooks', SW_SECRET);
	});

	it.each([
		// Spacing a re-serialisation would not reproduce: only the raw body verifies.
		['application/json', (to: string) => `{ "visits" : 2 ,\n  "email": "${to}" }`],
		['text/plain', (to: string) => `{"visits":2,"email":"${to}"}`],
		['application/x-www-form-urlencoded', () => 'visits=2&note=a+b%21'],
	])('accepts a correctly signed %s body and writes the profile', async (contentType, bodyFor) => {
		const address = email();
		const body = bodyFor(address);
		const answer = await post(`${server.url}?property=email&email=${encodeURIComponent(address)}`, body, {
			'content-type': contentType,
			...standardWebhooksHeaders(body),
		});
		expect(answer).toMatchObject({ status: 200, body: { state: 'CREATED' } });
		expect(await visitsOf(address)).toEqual([2]);
	});

	it.each([
		['a wrong secret', (body: string) => standardWebhooksHeaders(body, { key: Buffer.alloc(32, 1) }), /does not match/],
		['a stale timestamp', (body: string) => standardWebhooksHeaders(body, { timestamp: now() - 301 }), /more than the 300 s tolerated/],
		['a body changed after signing', (body: string) => standardWebhooksHeaders(body.replace('2', '9')), /does not match/],
		['no signature', () => ({}), /No webhook-id header/],
	])('refuses %s with 401 and writes nothing', async (_label, headersFor, message) => {
		const address = email();
		const body = JSON.stringify({ visits: 2 });
		const executions = server.executions.length;
		const answer = await post(`${server.url}?property=email&email=${encodeURIComponent(address)}`, body, {
			'content-type': 'application/json',
			...headersFor(body),
		});
		expect(answer.status).toBe(401);
		expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED', message: expect.stringMatching(message) } });
		expect(await visitsOf(address)).toBeUndefined();
		expect(server.executions.length).toBe(executions);
	});

	it('honours a shorter tolerance from the options', async () => {
		const strict = await serve('standardWebhooks', SW_SECRET, { signatureTolerance: 5 });
		const body = JSON.stringify({ visits: 1 });
		const answer = await post(`${strict.url}?property=email&email=${encodeURIComponent(email())}`, body, {
			'content-type': 'application/json',
			...standardWebhooksHeaders(body, { timestamp: now() - 60 }),
		});
		expect(answer.status).toBe(401);
	});
});

describe('Trigger signatures: Stripe-style and GitHub-style', () => {
	it('accepts a Stripe-Signature and refuses a wrong one', async () => {
		const server = await serve('stripe', PLAIN_SECRET);
		const address = email();
		const body = JSON.stringify({ visits: 3 });
		const t = now();
		const v1 = createHmac('sha256', PLAIN_SECRET).update(`${t}.${body}`).digest('hex');
		const url = `${server.url}?property=email&email=${encodeURIComponent(address)}`;
		const ok = await post(url, body, { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` });
		expect(ok).toMatchObject({ status: 200, body: { state: 'CREATED' } });
		const bad = await post(url, body, { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${'0'.repeat(64)}` });
		expect(bad.status).toBe(401);
		expect(await visitsOf(address)).toEqual([3]);
	});

	it('accepts an X-Hub-Signature-256 and refuses a wrong one', async () => {
		const server = await serve('github', PLAIN_SECRET);
		const address = email();
		const body = JSON.stringify({ visits: 4 });
		const signature = createHmac('sha256', PLAIN_SECRET).update(body).digest('hex');
		const url = `${server.url}?property=email&email=${encodeURIComponent(address)}`;
		const ok = await post(url, body, { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` });
		expect(ok).toMatchObject({ status: 200, body: { state: 'CREATED' } });
		const bad = await post(url, `${body} `, { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` });
		expect(bad.status).toBe(401);
		expect(await visitsOf(address)).toEqual([4]);
	});
});

describe('Trigger signatures: activation', () => {
	const activate = (secret: string, signature = 'standardWebhooks', options: INodeParameters = {}) =>
		runWebhookMethod(
			{
				nodeType: new ProfileWebhookTrigger(),
				parameters: parameters(signature, options),
				credentials: [credential(secret)],
				credentialTypes: [new ProfileWebhookSignatureApi()],
			},
			'checkExists',
		);

	it('activates with a usable secret', async () => {
		await expect(activate(SW_SECRET)).resolves.toBe(true);
	});

	it('refuses a secret that is not whsec_ + base64, or too short, naming it', async () => {
		await expect(activate('whsec_not base64')).rejects.toThrow(
			'Signing Secret: is not a Standard Webhooks secret (whsec_ followed by base64)',
		);
		await expect(activate('short', 'github')).rejects.toThrow('Signing Secret: is too short (at least 16 bytes)');
	});

	it('refuses a bad idempotency key and an IP allowlist entry with host bits, naming them', async () => {
		await expect(activate(SW_SECRET, 'standardWebhooks', { idempotencyKey: 'webhook id', ipAllowlist: '10.0.0.1/8' })).rejects.toThrow(
			/10\.0\.0\.1\/8" has host bits set.*Idempotency Key: "webhook id" is neither a header name nor a JsonPath/,
		);
	});
});
