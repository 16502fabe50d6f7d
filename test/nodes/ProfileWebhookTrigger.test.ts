/**
 * The Profile Webhook Trigger in n8n-core's real WebhookContext, served on 127.0.0.1, against the
 * real embedded store in this test's own n8n user folder.
 */
import { randomUUID } from 'node:crypto';

import type { INodeParameters } from 'n8n-workflow';

import { ProfileWebhookApi } from '../../credentials/ProfileWebhookApi.credentials';
import type { Profile } from '../../lib/profiles/types';
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import {
	runWebhookMethod,
	startWebhookNode,
	type TestCredential,
	type WebhookNodeServer,
} from '../helpers/n8n';

const API_KEY = 'k3y-' + randomUUID();
const apiKeyCredential = (data: Record<string, string> = {}): TestCredential => ({
	type: 'profileWebhookApi',
	data: { apiKey: API_KEY, headerName: 'X-API-Key', sendIn: 'header', ...data },
});

const baseParameters: INodeParameters = {
	path: 'profiles',
	authentication: 'apiKey',
	identifierProperty: 'email',
	createProfiles: true,
	mappings: {
		mapping: [
			{ field: '$.firstName', property: 'firstname', mode: 'set' },
			{ field: '$.visits', property: 'visits', mode: 'sum' },
			{ field: '$.tags[*]', property: 'tags', mode: 'add' },
			{ field: '$.source', property: 'source', mode: 'setIfEmpty' },
		],
	},
};

let store: ProfileEngine;
const servers: WebhookNodeServer[] = [];

async function serve(
	parameters: INodeParameters = {},
	credential: TestCredential | null = apiKeyCredential(),
	extra: { proxyHops?: number } = {},
): Promise<WebhookNodeServer> {
	const server = await startWebhookNode({
		nodeType: new ProfileWebhookTrigger(),
		parameters: { ...baseParameters, ...parameters },
		credentials: credential ? [credential] : [],
		credentialTypes: [new ProfileWebhookApi()],
		...extra,
	});
	servers.push(server);
	return server;
}

const uniqueEmail = () => `p-${randomUUID().slice(0, 8)}@example.test`;

interface Answer {
	status: number;
	body: Record<string, unknown>;
	headers: Headers;
}

async function call(
	url: string,
	init: { method?: string; headers?: Record<string, string>; body?: string; json?: unknown } = {},
): Promise<Answer> {
	const headers: Record<string, string> = { 'X-API-Key': API_KEY, ...init.headers };
	let body = init.body;
	if (init.json !== undefined) {
		headers['content-type'] ??= 'application/json';
		body = JSON.stringify(init.json);
	}
	const res = await fetch(url, { method: init.method ?? 'POST', headers, body });
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}

async function profileOf(email: string, domainGroup = 'DEFAULT'): Promise<Profile | undefined> {
	const found = await store.findByIdentifier(domainGroup, 'email', email);
	return found.profile ? await store.get(found.profile.id, { timeline: true }) : undefined;
}

beforeAll(() => {
	store = getProfileEngine();
});

afterAll(async () => {
	await Promise.all(servers.map((s) => s.close()));
});

describe('Profile Webhook Trigger: authentication', () => {
	let server: WebhookNodeServer;
	beforeAll(async () => {
		server = await serve();
	});

	it('accepts the key in the configured header and answers CREATED with the profile id', async () => {
		const email = uniqueEmail();
		const answer = await call(`${server.url}?property=email&email=${encodeURIComponent(email)}`, {
			json: { firstName: 'Ada', visits: 2 },
		});
		expect(answer.status).toBe(200);
		const profile = await profileOf(email);
		expect(answer.body).toEqual({ state: 'CREATED', profileId: profile!.id });
		expect(profile!.properties).toMatchObject({ email: [email], firstname: ['Ada'], visits: [2] });
	});

	it.each([
		['no key', {}, /No API key/],
		['a wrong key of another length', { 'X-API-Key': 'short' }, /invalid/i],
		['a wrong key of the same length', { 'X-API-Key': API_KEY.replace(/.$/, 'x') }, /invalid/i],
	])('refuses %s with 401 and writes nothing', async (_label, headers, message) => {
		const email = uniqueEmail();
		const executions = server.executions.length;
		const res = await fetch(`${server.url}?property=email&email=${email}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body: JSON.stringify({ firstName: 'Eve' }),
		});
		expect(res.status).toBe(401);
		const body = (await res.json()) as { error: { code: string; message: string } };
		expect(body.error.code).toBe('UNAUTHORIZED');
		expect(body.error.message).toMatch(message);
		expect(JSON.stringify(body)).not.toContain(API_KEY);
		expect(await profileOf(email)).toBeUndefined();
		expect(server.executions).toHaveLength(executions);
	});

	it('refuses a key in the URL unless allowApiKeyInUrl is on', async () => {
		const email = uniqueEmail();
		const res = await fetch(`${server.url}?property=email&email=${email}&apiKey=${API_KEY}`, {
			method: 'POST',
		});
		expect(res.status).toBe(401);
		expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/URL/);
		expect(await profileOf(email)).toBeUndefined();

		const lenient = await serve({ path: 'url-key', options: { allowApiKeyInUrl: true } });
		const ok = await fetch(`${lenient.url}?property=email&email=${email}&apiKey=${API_KEY}`, {
			method: 'POST',
		});
		expect(ok.status).toBe(200);
		const item = lenient.executions.at(-1)!.items[0][0].json;
		expect(JSON.stringify(item)).not.toContain(API_KEY);
		expect((item.request as { query: Record<string, unknown> }).query).toEqual({
			property: 'email',
			email,
		});
	});

	it('keeps the key out of the output item, whatever header carried it', async () => {
		const email = uniqueEmail();
		await call(`${server.url}?property=email&email=${email}`, { json: { firstName: 'Kim' } });
		const item = server.executions.at(-1)!.items[0][0].json;
		expect(JSON.stringify(item)).not.toContain(API_KEY);
		expect((item.request as { headers: Record<string, unknown> }).headers['x-api-key']).toBeUndefined();
	});

	it('accepts anyone with authentication none', async () => {
		const open = await serve({ path: 'open', authentication: 'none' }, null);
		const email = uniqueEmail();
		const res = await fetch(`${open.url}?property=email&email=${email}`, { method: 'POST' });
		expect(res.status).toBe(200);
		expect(((await res.json()) as { state: string }).state).toBe('CREATED');
	});
});

describe('Profile Webhook Trigger: IP allowlist', () => {
	it('lets listed addresses and ranges in and refuses others with 403', async () => {
		const allowed = await serve({ path: 'ip-ok', options: { ipAllowlist: '10.0.0.0/8, 127.0.0.0/8' } });
		const email = uniqueEmail();
		expect((await call(`${allowed.url}?property=email&email=${email}`)).status).toBe(200);

		const refused = await serve({ path: 'ip-no', options: { ipAllowlist: '10.0.0.0/8, 2001:db8::/32' } });
		const other = uniqueEmail();
		const answer = await call(`${refused.url}?property=email&email=${other}`, { json: { firstName: 'X' } });
		expect(answer.status).toBe(403);
		expect(answer.body).toEqual({
			error: {
				code: 'FORBIDDEN',
				message: expect.stringContaining('127.0.0.1'),
			},
		});
		expect(await profileOf(other)).toBeUndefined();
		expect(refused.executions).toHaveLength(0);
	});

	it('judges the address n8n derives: X-Forwarded-For counts only behind configured proxy hops', async () => {
		const direct = await serve({ path: 'xff-direct', options: { ipAllowlist: '203.0.113.0/24' } });
		const spoofed = await call(`${direct.url}?property=email&email=${uniqueEmail()}`, {
			headers: { 'X-Forwarded-For': '203.0.113.9' },
		});
		expect(spoofed.status).toBe(403);

		const proxied = await serve(
			{ path: 'xff-proxied', options: { ipAllowlist: '203.0.113.0/24' } },
			apiKeyCredential(),
			{ proxyHops: 1 },
		);
		const viaProxy = await call(`${proxied.url}?property=email&email=${uniqueEmail()}`, {
			headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9' },
		});
		expect(viaProxy.status).toBe(200);
		const forged = await call(`${proxied.url}?property=email&email=${uniqueEmail()}`, {
			headers: { 'X-Forwarded-For': '203.0.113.9, 198.51.100.1' },
		});
		expect(forged.status).toBe(403);
	});
});

describe('Profile Webhook Trigger: request data', () => {
	let server: WebhookNodeServer;
	beforeAll(async () => {
		server = await serve({
			path: 'data',
			mappings: {
				mapping: [
					{ field: '$.firstName', property: 'firstname', mode: 'set' },
					{ field: 'data[merges][FNAME]', property: 'firstname', mode: 'set' },
					{ field: '$.data.merges.LNAME', property: 'lastname', mode: 'set' },
					{ field: '$.organizations[?(@.current)].name', property: 'company', mode: 'set' },
					{ field: 'city', property: 'city', mode: 'set' },
				],
			},
			options: { maxBodySize: 1 },
		});
	});

	it('reads JSON, application/*+json and JSON sent as text/plain', async () => {
		for (const contentType of ['application/json', 'application/vnd.api+json', 'text/plain']) {
			const email = uniqueEmail();
			const answer = await call(`${server.url}?property=email&email=${email}`, {
				headers: { 'content-type': contentType },
				body: JSON.stringify({
					firstName: 'Grace',
					organizations: [
						{ name: 'Old Corp', current: false },
						{ name: 'Navy', current: true },
					],
				}),
			});
			expect(answer.status).toBe(200);
			expect((await profileOf(email))!.properties).toMatchObject({
				firstname: ['Grace'],
				company: ['Navy'],
			});
		}
	});

	it('reads a Mailchimp-style form by exact parameter name and JsonPath over the nested form', async () => {
		const email = uniqueEmail();
		const form = new URLSearchParams({
			type: 'subscribe',
			'data[email]': email,
			'data[merges][EMAIL]': email,
			'data[merges][FNAME]': 'Mary',
			'data[merges][LNAME]': 'Jackson',
		});
		const answer = await call(`${server.url}?property=email&email=${encodeURIComponent(email)}`, {
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: form.toString(),
		});
		expect(answer.status).toBe(200);
		expect((await profileOf(email))!.properties).toMatchObject({
			firstname: ['Mary'],
			lastname: ['Jackson'],
		});
		const item = server.executions.at(-1)!.items[0][0].json;
		expect((item.request as { body: Record<string, string> }).body['data[merges][FNAME]']).toBe('Mary');
	});

	it('serves GET requests from the query string alone', async () => {
		const email = uniqueEmail();
		const answer = await call(`${server.url}?property=email&email=${email}&city=Utrecht`, {
			method: 'GET',
		});
		expect(answer.status).toBe(200);
		expect((await profileOf(email))!.properties.city).toEqual(['Utrecht']);
	});

	it('answers 400 for malformed JSON it parses, 415 for types it cannot read, 413 above the size', async () => {
		const email = uniqueEmail();
		const malformed = await call(`${server.url}?property=email&email=${email}`, {
			headers: { 'content-type': 'application/vnd.api+json' },
			body: '{"firstName": ',
		});
		expect(malformed.status).toBe(400);
		expect((malformed.body.error as { code: string }).code).toBe('MALFORMED_BODY');

		const xml = await call(`${server.url}?property=email&email=${email}`, {
			headers: { 'content-type': 'application/xml' },
			body: '<firstName>X</firstName>',
		});
		expect(xml.status).toBe(415);
		expect((xml.body.error as { message: string }).message).toMatch(/application\/xml/);

		const large = await call(`${server.url}?property=email&email=${email}`, {
			json: { firstName: 'x'.repeat(2048) },
		});
		expect(large.status).toBe(413);
		expect((large.body.error as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
		expect(await profileOf(email)).toBeUndefined();
	});
});

describe('Profile Webhook Trigger: identifiers, matching and creation', () => {
	it('takes BlueConic’s documented query string as it is', async () => {
		const server = await serve({ path: 'blueconic', options: { allowApiKeyInUrl: true } });
		const email = uniqueEmail();
		const query =
			'?itemId=123abc45-ab1c-1234-5678-1a12a12345a1&goalId=1234567890123_1234567890' +
			`&apiKey=${API_KEY}&property=email&email=${encodeURIComponent(email)}`;
		const res = await fetch(server.url + query, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ firstName: 'Blue' }),
		});
		expect(res.status).toBe(200);
		expect(((await res.json()) as { state: string }).state).toBe('CREATED');
		expect((await profileOf(email))!.properties.firstname).toEqual(['Blue']);
	});

	it('answers 400 when the identifier is missing or names another property', async () => {
		const server = await serve({ path: 'ident' });
		const missing = await call(`${server.url}?property=email`, { json: { firstName: 'A' } });
		expect(missing.status).toBe(400);
		expect((missing.body.error as { code: string }).code).toBe('MISSING_IDENTIFIER');
		const mismatch = await call(`${server.url}?property=phone&phone=123`, { json: {} });
		expect(mismatch.status).toBe(400);
		expect((mismatch.body.error as { code: string; message: string }).message).toMatch(/phone/);
		expect(server.executions).toHaveLength(0);
	});

	it('reads the identifier from the body when told to', async () => {
		const server = await serve({ path: 'ident-body', options: { identifierField: '$.contact.email' } });
		const email = uniqueEmail();
		const answer = await call(server.url, { json: { contact: { email }, firstName: 'Body' } });
		expect(answer.status).toBe(200);
		expect((await profileOf(email))!.properties.firstname).toEqual(['Body']);
	});

	it('answers NOTFOUND without an execution unless emitUnmatched, and creates from the URL only when allowed', async () => {
		const strict = await serve({ path: 'nocreate', createProfiles: false });
		const email = uniqueEmail();
		const notFound = await call(`${strict.url}?property=email&email=${email}&createProfiles=true`, {
			json: { firstName: 'N' },
		});
		expect(notFound.body).toEqual({ state: 'NOTFOUND', profileId: null });
		expect(strict.executions).toHaveLength(0);
		expect(await profileOf(email)).toBeUndefined();

		const emitting = await serve({
			path: 'nocreate-emit',
			createProfiles: false,
			options: { emitUnmatched: true, allowCreateFromUrl: true },
		});
		await call(`${emitting.url}?property=email&email=${email}`, { json: {} });
		expect(emitting.executions.at(-1)!.items[0][0].json.state).toBe('NOTFOUND');
		const created = await call(`${emitting.url}?property=email&email=${email}&createProfiles=true`, {
			json: { firstName: 'Now' },
		});
		expect(created.body.state).toBe('CREATED');
	});

	it('takes legislation and domain group from the URL', async () => {
		const server = await serve({ path: 'legislation' });
		const email = uniqueEmail();
		const group = randomUUID();
		await call(`${server.url}?property=email&email=${email}&legislation=GDPR&domainGroup=${group}`, {
			json: { firstName: 'Lex' },
		});
		expect(await profileOf(email)).toBeUndefined();
		const profile = await profileOf(email, group);
		expect(profile).toMatchObject({ legislation: 'GDPR', domainGroup: group });
		const item = server.executions.at(-1)!.items[0][0].json;
		expect(item).toMatchObject({ domainGroup: group, legislation: 'GDPR' });
	});
});

describe('Profile Webhook Trigger: mappings, timeline and answers', () => {
	let server: WebhookNodeServer;
	beforeAll(async () => {
		server = await serve({
			path: 'mapping',
			timelineEvents: {
				event: [
					{ eventType: 'email_opened', dateField: '$.timestamp', idField: '$.eventId', dataFields: '$.campaign' },
					{ eventType: 'webhook_received', dateField: '', idField: '', dataFields: '' },
				],
			},
		});
	});

	it('applies each import mode and reports before and after', async () => {
		const email = uniqueEmail();
		const url = `${server.url}?property=email&email=${email}`;
		await call(url, { json: { firstName: 'Ann', visits: 1, tags: ['a', 'b'], source: 'ads' } });
		const second = await call(url, {
			json: { firstName: 'Anna', visits: '2.5', tags: ['b', 'c'], source: 'mail' },
		});
		expect(second.body.state).toBe('MODIFIED');
		const item = server.executions.at(-1)!.items[0][0].json;
		expect(item.changes).toEqual({
			firstname: { mode: 'set', before: ['Ann'], after: ['Anna'] },
			visits: { mode: 'sum', before: [1], after: [3.5] },
			tags: { mode: 'add', before: ['a', 'b'], after: ['a', 'b', 'c'] },
		});
		expect(item).toMatchObject({
			state: 'MODIFIED',
			identifier: { property: 'email', value: email },
			domainGroup: 'DEFAULT',
			legislation: 'NONE',
			request: { method: 'POST', query: { property: 'email', email } },
		});
		expect((item.profile as Profile).properties.source).toEqual(['ads']);
	});

	it('answers UNCHANGED when nothing changes and missing fields change nothing', async () => {
		const email = uniqueEmail();
		const url = `${server.url}?property=email&email=${email}`;
		const quiet = await serve({ path: 'quiet', mappings: { mapping: [{ field: '$.firstName', property: 'firstname', mode: 'set' }] } });
		const quietUrl = `${quiet.url}?property=email&email=${email}`;
		await call(url, { json: { firstName: 'Same', visits: 4 } });
		expect((await call(quietUrl, { json: { firstName: 'Same' } })).body.state).toBe('UNCHANGED');
		expect((await call(quietUrl, { json: { other: 1 } })).body.state).toBe('UNCHANGED');
		expect((await profileOf(email))!.properties).toMatchObject({ firstname: ['Same'], visits: [4] });
	});

	it('refuses a value that cannot be summed with 422, listing every issue, writing nothing', async () => {
		const email = uniqueEmail();
		const url = `${server.url}?property=email&email=${email}`;
		await call(url, { json: { firstName: 'Before', visits: 1 } });
		const before = await profileOf(email);
		const answer = await call(url, { json: { firstName: 'After', visits: 'many' } });
		expect(answer.status).toBe(422);
		expect(answer.body.error).toMatchObject({
			code: 'VALIDATION_FAILED',
			issues: [{ target: 'visits', message: expect.stringContaining('"many"') }],
		});
		expect(await profileOf(email)).toEqual(before);
	});

	it('records timeline events with their date, id and data; a known id replaces the event', async () => {
		const email = uniqueEmail();
		const url = `${server.url}?property=email&email=${email}`;
		await call(url, { json: { campaign: 'spring', timestamp: 1767225600, eventId: 'ev-1' } });
		await call(url, { json: { campaign: 'summer', timestamp: '2026-06-01T10:00:00Z', eventId: 'ev-1' } });
		const timeline = (await profileOf(email))!.timeline!;
		const opened = timeline.filter((e) => e.eventType === 'email_opened');
		expect(opened).toEqual([
			{ id: 'ev-1', eventType: 'email_opened', date: '2026-06-01T10:00:00.000Z', data: { campaign: 'summer' } },
		]);
		expect(timeline.filter((e) => e.eventType === 'webhook_received')).toHaveLength(2);
		const item = server.executions.at(-1)!.items[0][0].json;
		expect((item.timelineEvents as unknown[]).length).toBe(2);
	});

	it('answers with the first item of the last node in lastNode mode', async () => {
		const last = await serve({ path: 'last', options: { responseMode: 'lastNode' } });
		const email = uniqueEmail();
		const answer = await call(`${last.url}?property=email&email=${email}`, { json: { firstName: 'L' } });
		expect(answer.body).toMatchObject({ state: 'CREATED', identifier: { property: 'email', value: email } });
	});

	it('behaves the same on the editor test URL', async () => {
		const email = uniqueEmail();
		const answer = await call(`${server.testUrl}?property=email&email=${email}`, { json: { firstName: 'T' } });
		expect(answer.body.state).toBe('CREATED');
		expect(server.executions.at(-1)!.mode).toBe('manual');
		const refused = await fetch(`${server.testUrl}?property=email&email=${email}`, { method: 'POST' });
		expect(refused.status).toBe(401);
	});
});

describe('Profile Webhook Trigger: batches', () => {
	it('matches and maps each record of a SendGrid-style array on its own', async () => {
		const server = await serve({
			path: 'sendgrid',
			createProfiles: false,
			options: { recordsPath: '$[*]', identifierField: '$.email', emitUnmatched: false },
			mappings: { mapping: [{ field: '$.event', property: 'last_email_event', mode: 'set' }] },
			timelineEvents: {
				event: [{ eventType: 'sendgrid', dateField: '$.timestamp', idField: '$.sg_event_id', dataFields: '$.event' }],
			},
		});
		const known = uniqueEmail();
		const unknown = uniqueEmail();
		await store.applyByIdentifier({
			domainGroup: 'DEFAULT',
			identifier: { property: 'email', value: known },
			create: true,
			imports: [],
			events: [],
		});
		const answer = await call(server.url, {
			json: [
				{ email: known, event: 'delivered', timestamp: 1767225600, sg_event_id: 'a1' },
				{ email: unknown, event: 'open', timestamp: 1767225601, sg_event_id: 'a2' },
				{ email: known, event: 'open', timestamp: 1767225602, sg_event_id: 'a3' },
			],
		});
		const id = (await profileOf(known))!.id;
		expect(answer.body).toEqual({
			results: [
				{ state: 'MODIFIED', profileId: id },
				{ state: 'NOTFOUND', profileId: null },
				{ state: 'MODIFIED', profileId: id },
			],
		});
		const items = server.executions.at(-1)!.items[0];
		expect(items.map((i) => i.json.state)).toEqual(['MODIFIED', 'MODIFIED']);
		const profile = (await profileOf(known))!;
		expect(profile.properties.last_email_event).toEqual(['open']);
		expect(profile.timeline!.map((e) => e.id).sort()).toEqual(['a1', 'a3']);
	});
});

describe('Profile Webhook Trigger: consent', () => {
	it('changes GDPR profiles only with consent, others unless they refused every objective (DESIGN 2.1)', async () => {
		const server = await serve({ path: 'consent', options: { objectives: 'marketing, analytics' } });
		const gdpr = uniqueEmail();
		const url = (email: string, extra = '') => `${server.url}?property=email&email=${email}${extra}`;

		const refusedNew = await call(url(gdpr, '&legislation=GDPR'), { json: { firstName: 'G' } });
		expect(refusedNew.body).toEqual({ state: 'CONSENT_MISMATCH', profileId: null });
		expect(await profileOf(gdpr)).toBeUndefined();
		expect(server.executions).toHaveLength(0);

		await store.applyByIdentifier({
			domainGroup: 'DEFAULT',
			identifier: { property: 'email', value: gdpr },
			create: true,
			legislation: 'GDPR',
			imports: [{ property: 'consented_objectives', mode: 'set', values: ['analytics'] }],
			events: [],
		});
		expect((await call(url(gdpr), { json: { firstName: 'G' } })).body.state).toBe('MODIFIED');

		const partly = uniqueEmail();
		await store.applyByIdentifier({
			identifier: { property: 'email', value: partly },
			create: true,
			imports: [{ property: 'refused_objectives', mode: 'set', values: ['marketing'] }],
		});
		expect((await call(url(partly), { json: { firstName: 'P' } })).body.state).toBe('MODIFIED');

		const refuser = uniqueEmail();
		await store.applyByIdentifier({
			domainGroup: 'DEFAULT',
			identifier: { property: 'email', value: refuser },
			create: true,
			imports: [{ property: 'refused_objectives', mode: 'set', values: ['marketing', 'analytics'] }],
			events: [],
		});
		const before = await profileOf(refuser);
		const mismatch = await call(url(refuser), { json: { firstName: 'R' } });
		expect(mismatch.body).toEqual({ state: 'CONSENT_MISMATCH', profileId: before!.id });
		expect(await profileOf(refuser)).toEqual(before);

		expect((await call(url(uniqueEmail()), { json: { firstName: 'N' } })).body.state).toBe('CREATED');
	});

	it('?legislation=NONE cannot switch the GDPR consent gate off, nor loosen the stored legislation', async () => {
		const server = await serve({ path: 'consent-downgrade', options: { objectives: 'marketing' } });
		const email = uniqueEmail();
		await store.applyByIdentifier({ identifier: { property: 'email', value: email }, create: true, legislation: 'GDPR' });
		const before = await profileOf(email);
		const attempt = await call(`${server.url}?property=email&email=${email}&legislation=NONE`, { json: { firstName: 'X' } });
		expect(attempt.status).toBe(200);
		expect(attempt.body).toEqual({ state: 'CONSENT_MISMATCH', profileId: before!.id });
		expect(await profileOf(email)).toEqual(before);
		expect(before!.legislation).toBe('GDPR');
	});

	it('consent given in the same request counts, and legislation can be tightened', async () => {
		const server = await serve({
			path: 'consent-same-request',
			options: { objectives: 'marketing' },
			mappings: { mapping: [{ field: '$.consent', property: 'consented_objectives', mode: 'add' }] },
		});
		const email = uniqueEmail();
		await store.applyByIdentifier({ identifier: { property: 'email', value: email }, create: true });
		const answer = await call(`${server.url}?property=email&email=${email}&legislation=GDPR`, { json: { consent: 'marketing' } });
		expect(answer.body.state).toBe('MODIFIED');
		expect(await profileOf(email)).toMatchObject({ legislation: 'GDPR', properties: { consented_objectives: ['marketing'] } });
		const bad = await call(`${server.url}?property=email&email=${email}&legislation=CCPA`, { json: {} });
		expect(bad.status).toBe(400);
		expect((bad.body.error as { message: string }).message).toContain('legislation');
	});
});

describe('Profile Webhook Trigger: configuration', () => {
	it.each([
		[{ mappings: { mapping: [{ field: '$[?@.a==1]', property: 'a', mode: 'set' }] } }, '$[?@.a==1]'],
		[{ options: { ipAllowlist: '10.0.0.0/33' } }, '10.0.0.0/33'],
		[{ options: { ipAllowlist: '10.0.0.1, not-an-ip' } }, 'not-an-ip'],
		[{ identifierProperty: '  ' }, 'Identifier Property'],
	])('refuses %j at activation, naming the offending value', async (parameters, named) => {
		const subject = {
			nodeType: new ProfileWebhookTrigger(),
			parameters: { ...baseParameters, ...parameters } as INodeParameters,
			credentials: [apiKeyCredential()],
			credentialTypes: [new ProfileWebhookApi()],
		};
		await expect(runWebhookMethod(subject, 'checkExists')).rejects.toThrow(named);
		const server = await serve(parameters as INodeParameters);
		const answer = await call(`${server.url}?property=email&email=${uniqueEmail()}`);
		expect(answer.status).toBe(500);
		expect((answer.body.error as { message: string }).message).toContain(named);
	});

	it('activates a valid configuration', async () => {
		await expect(
			runWebhookMethod(
				{
					nodeType: new ProfileWebhookTrigger(),
					parameters: baseParameters,
					credentials: [apiKeyCredential()],
					credentialTypes: [new ProfileWebhookApi()],
				},
				'checkExists',
			),
		).resolves.toBe(true);
	});
});
