/**
 * The Profile Webhook in n8n-core's real ExecuteContext, sending to a real HTTP server on
 * 127.0.0.1, with the real embedded store.
 */
import { randomUUID } from 'node:crypto';

import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { ProfileWebhookApi } from '../../credentials/ProfileWebhookApi.credentials';
import type { Profile, ProfileProperties } from '../../lib/profiles/types';
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileWebhook } from '../../nodes/ProfileWebhook/ProfileWebhook.node';
import { runExecuteNode, type TestCredential } from '../helpers/n8n';
import { startReceiver, type Receiver } from '../helpers/receiver';

let receiver: Receiver;
let store: ProfileEngine;

beforeAll(async () => {
	receiver = await startReceiver();
	store = getProfileEngine();
});
afterAll(async () => receiver.close());
beforeEach(() => receiver.reset());

async function newProfile(properties: ProfileProperties, legislation?: string): Promise<Profile> {
	return await store.create({ properties: { email: [`${randomUUID()}@example.test`], ...properties }, legislation });
}

interface RunOptions {
	items?: INodeExecutionData[];
	credentials?: TestCredential[];
	mode?: 'manual' | 'trigger';
	continueOnFail?: boolean;
	nodeId?: string;
}

async function run(parameters: INodeParameters, profiles: Profile[], opts: RunOptions = {}) {
	const items = opts.items ?? profiles.map((profile) => ({ json: { ...profile } as unknown as INodeExecutionData['json'] }));
	const { outputs } = await runExecuteNode({
		nodeType: new ProfileWebhook(),
		parameters: {
			triggerOn: 'always',
			method: 'POST',
			url: `${receiver.url}/contacts`,
			...parameters,
		},
		items,
		credentials: opts.credentials,
		credentialTypes: [new ProfileWebhookApi()],
		mode: opts.mode ?? 'trigger',
		continueOnFail: opts.continueOnFail,
		nodeId: opts.nodeId,
	});
	return { sent: outputs[0], skipped: outputs[1] };
}

describe('Profile Webhook: the request', () => {
	it('renders URL, headers and a JSON body from the profile and answers with the response', async () => {
		const profile = await newProfile({ firstname: ['Ada'], tags: ['a', 'b'] });
		receiver.reply = () => ({ status: 201, body: { id: 'crm-7' } });
		const { sent, skipped } = await run(
			{
				url: `${receiver.url}/contacts/{{email.0}}`,
				headers: { header: [{ name: 'X-Profile', value: '{{profileId}}' }] },
				body: '{ "email": "{{email.0}}", "name": "{{{firstname.0}}}", "tags": {{json tags}} }',
			},
			[profile],
		);
		expect(skipped).toHaveLength(0);
		expect(receiver.requests).toHaveLength(1);
		const received = receiver.requests[0];
		expect(received.url).toBe(`/contacts/${encodeURIComponent(profile.properties.email[0] as string)}`);
		expect(received.headers['x-profile']).toBe(profile.id);
		expect(received.headers['content-type']).toBe('application/json');
		expect(JSON.parse(received.body)).toEqual({ email: profile.properties.email[0], name: 'Ada', tags: ['a', 'b'] });
		expect(sent).toHaveLength(1);
		expect(sent[0].pairedItem).toEqual({ item: 0 });
		expect(sent[0].json).toMatchObject({
			profileId: profile.id,
			response: { status: 201, body: { id: 'crm-7' } },
			profile: { id: profile.id },
		});
	});

	it('escapes each value for its context: JSON strings arrive intact, URL values cannot move the host', async () => {
		const tricky = 'quote " backslash \\ newline \n </script> emoji 😀 & = / ? # @ % é';
		const profile = await newProfile({ note: [tricky], path: ['evil.com:8080/@x?y#z'] });
		await run(
			{
				url: `${receiver.url}/p/{{path.0}}?note={{note.0}}`,
				body: '{"note": "{{note.0}}", "raw": "{{{note.0}}}"}',
			},
			[profile],
		);
		const received = receiver.requests[0];
		expect(JSON.parse(received.body)).toEqual({ note: tricky, raw: tricky });
		const url = new URL(received.url, receiver.url);
		expect(url.host).toBe(new URL(receiver.url).host);
		expect(decodeURIComponent(url.pathname)).toBe('/p/evil.com:8080/@x?y#z');
		expect(url.searchParams.get('note')).toBe(tricky);
	});

	it('form-encodes form bodies and never HTML-escapes', async () => {
		const profile = await newProfile({ firstname: ['A&B <c>'] });
		await run({ bodyFormat: 'form', body: 'name={{firstname.0}}&id={{profileId}}' }, [profile]);
		const received = receiver.requests[0];
		expect(received.headers['content-type']).toBe('application/x-www-form-urlencoded');
		expect(Object.fromEntries(new URLSearchParams(received.body))).toEqual({ name: 'A&B <c>', id: profile.id });
	});

	it('refuses a header value with a line break and a body that is not JSON before sending anything', async () => {
		const profile = await newProfile({ firstname: ['Eve\r\nX-Injected: yes'] });
		const header = run({ headers: { header: [{ name: 'X-Name', value: '{{firstname.0}}' }] } }, [profile]);
		await expect(header).rejects.toThrow(/X-Name/);
		const body = run({ body: '{"name": "{{firstname.0}}"' }, [await newProfile({ firstname: ['x'] })]);
		await expect(body).rejects.toThrow(/JSON body/);
		expect(receiver.requests).toHaveLength(0);
	});
});

describe('Profile Webhook: which profiles', () => {
	it('sends only profiles in a selected segment, with consent, and says why others were skipped', async () => {
		const member = await newProfile({ segments: ['customers'] });
		const outsider = await newProfile({ segments: ['prospects'] });
		const gdprNoConsent = await newProfile({ segments: ['customers'] }, 'GDPR');
		const gdprConsent = await newProfile({ segments: ['customers'], consented_objectives: ['marketing'] }, 'GDPR');
		const { sent, skipped } = await run(
			{ segments: 'customers, vip', objectives: 'marketing' },
			[member, outsider, gdprNoConsent, gdprConsent],
		);
		expect(sent.map((i) => i.json.profileId)).toEqual([member.id, gdprConsent.id]);
		expect(sent.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 3 }]);
		expect(skipped.map((i) => [i.json.profileId, (i.json.skipped as { code: string }).code])).toEqual([
			[outsider.id, 'NOT_IN_SEGMENT'],
			[gdprNoConsent.id, 'NO_CONSENT'],
		]);
		expect(skipped.map((i) => i.pairedItem)).toEqual([{ item: 1 }, { item: 2 }]);
		expect(receiver.requests).toHaveLength(2);
	});

	it('sends on a property change once; a second run with unchanged properties is skipped', async () => {
		const profile = await newProfile({ firstname: ['Ann'], visits: [1] });
		const parameters = { triggerOn: 'propertyChange', triggerProperties: 'firstname' };
		const nodeId = randomUUID();
		expect((await run(parameters, [profile], { nodeId })).sent).toHaveLength(1);
		const second = await run(parameters, [profile], { nodeId });
		expect(second.sent).toHaveLength(0);
		expect((second.skipped[0].json.skipped as { code: string }).code).toBe('NO_CHANGE');
		await store.applyToProfile(profile.id, [{ property: 'visits', mode: 'sum', values: [1] }]);
		expect((await run(parameters, [profile], { nodeId })).sent).toHaveLength(0);
		await store.applyToProfile(profile.id, [{ property: 'firstname', mode: 'set', values: ['Anna'] }]);
		expect((await run(parameters, [profile], { nodeId })).sent).toHaveLength(1);
		expect(receiver.requests).toHaveLength(2);
	});

	it('uses the changes of a trigger item, and events for the event trigger', async () => {
		const profile = await newProfile({ firstname: ['Bo'] });
		const triggerItem = (changes: object, events: object[] = []) => ({
			json: { state: 'MODIFIED', profileId: profile.id, profile, changes, timelineEvents: events } as unknown as INodeExecutionData['json'],
		});
		const byChange = await run({ triggerOn: 'propertyChange', triggerProperties: 'firstname' }, [], {
			items: [
				triggerItem({ firstname: { mode: 'set', before: ['B'], after: ['Bo'] } }),
				triggerItem({ visits: { mode: 'sum', before: [1], after: [2] } }),
			],
		});
		expect(byChange.sent).toHaveLength(1);
		expect(byChange.skipped).toHaveLength(1);
		const byEvent = await run({ triggerOn: 'event', triggerEvents: 'order_placed' }, [], {
			items: [
				triggerItem({}, [{ id: 'e1', eventType: 'order_placed', date: '2026-01-01T00:00:00.000Z', data: {} }]),
				triggerItem({}, [{ id: 'e2', eventType: 'page_view', date: '2026-01-01T00:00:00.000Z', data: {} }]),
			],
		});
		expect(byEvent.sent).toHaveLength(1);
		expect((byEvent.skipped[0].json.skipped as { code: string }).code).toBe('NO_EVENT');
	});

	it('looks profiles up in the store by identifier', async () => {
		const profile = await newProfile({ firstname: ['Look'] });
		const { sent, skipped } = await run(
			{ profileSource: 'lookup', lookupProperty: 'email', lookupValue: '={{ $json.address }}', body: '{"n":"{{firstname.0}}"}' },
			[],
			{ items: [{ json: { address: profile.properties.email[0] } }, { json: { address: 'nobody@example.test' } }] },
		);
		expect(sent[0].json.profileId).toBe(profile.id);
		expect(JSON.parse(receiver.requests[0].body)).toEqual({ n: 'Look' });
		expect((skipped[0].json.skipped as { code: string }).code).toBe('NOT_FOUND');
	});
});

describe('Profile Webhook: delivery', () => {
	it('retries a 429 after the Retry-After seconds it names', async () => {
		const profile = await newProfile({});
		receiver.reply = (_r, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: { error: 'slow down' } } : { status: 200, body: {} });
		const { sent } = await run({ options: { retries: 2 } }, [profile]);
		expect(receiver.requests).toHaveLength(2);
		const gap = receiver.requests[1].at - receiver.requests[0].at;
		console.log(`429 with Retry-After: 2 retried after ${gap} ms`);
		expect(gap).toBeGreaterThanOrEqual(1900);
		expect(gap).toBeLessThan(4000);
		expect(sent[0].json).toMatchObject({ attempts: 2, response: { status: 200 } });
	});

	it('does not retry a 400, and continueOnFail turns it into an error item with the server message', async () => {
		const profile = await newProfile({});
		receiver.reply = () => ({ status: 400, body: { message: 'email is required' } });
		await expect(run({ options: { retries: 3 } }, [profile])).rejects.toThrow(/400: email is required/);
		expect(receiver.requests).toHaveLength(1);
		const { sent } = await run({ options: { retries: 3 } }, [profile], { continueOnFail: true });
		expect(receiver.requests).toHaveLength(2);
		expect(sent[0].json.error).toMatchObject({ status: 400, message: expect.stringContaining('email is required'), attempts: 1 });
		expect(sent[0].pairedItem).toEqual({ item: 0 });
	});

	it('retries a 503 and stores the last-sent snapshot only after a 2xx', async () => {
		const profile = await newProfile({ firstname: ['Snap'] });
		const nodeId = randomUUID();
		const parameters = { triggerOn: 'propertyChange', triggerProperties: 'firstname', options: { retries: 0 } };
		receiver.reply = () => ({ status: 503, body: 'down' });
		const failed = await run(parameters, [profile], { nodeId, continueOnFail: true });
		expect(failed.sent[0].json.error).toMatchObject({ status: 503 });
		receiver.reply = (_r, i) => (i === 1 ? { status: 502 } : { status: 200, body: {} });
		const retried = await run({ ...parameters, options: { retries: 2 } }, [profile], { nodeId });
		expect(retried.sent[0].json.attempts).toBe(2);
		expect((await run(parameters, [profile], { nodeId })).skipped).toHaveLength(1);
	});

	it('keeps at most `concurrency` requests in flight, seen at the server', async () => {
		const profiles = await Promise.all(Array.from({ length: 12 }, () => newProfile({})));
		receiver.reply = () => ({ status: 200, body: {}, delayMs: 80 });
		const { sent } = await run({ options: { concurrency: 3 } }, profiles);
		expect(sent).toHaveLength(12);
		expect(receiver.maxInFlight).toBe(3);
		expect(sent.map((i) => i.json.profileId)).toEqual(profiles.map((p) => p.id));
	});

	it('maps the JSON answer into the profile in the store', async () => {
		const profile = await newProfile({ score: [1] });
		receiver.reply = () => ({ status: 200, body: { contact: { id: 'crm-42' }, score: 4, lists: ['x', 'y'] } });
		const { sent } = await run(
			{
				responseMappings: {
					mapping: [
						{ path: '$.contact.id', property: 'crm_id', mode: 'set' },
						{ path: '$.score', property: 'score', mode: 'sum' },
						{ path: '$.lists[*]', property: 'lists', mode: 'add' },
					],
				},
			},
			[profile],
		);
		const stored = await store.get(profile.id);
		expect(stored!.properties).toMatchObject({ crm_id: ['crm-42'], score: [5], lists: ['x', 'y'] });
		expect((sent[0].json.profile as Profile).properties).toEqual(stored!.properties);
	});
});

describe('Profile Webhook: authentication and what items show', () => {
	const key = `secret-${randomUUID()}`;

	it('sends the API key in a header and keeps it out of the items, manual runs show the request', async () => {
		const profile = await newProfile({});
		const { sent } = await run({ authentication: 'apiKey' }, [profile], {
			mode: 'manual',
			credentials: [{ type: 'profileWebhookApi', data: { apiKey: key, headerName: 'X-API-Key', sendIn: 'header' } }],
		});
		expect(receiver.requests[0].headers['x-api-key']).toBe(key);
		expect(sent[0].json.request).toMatchObject({ method: 'POST', url: `${receiver.url}/contacts` });
		expect(JSON.stringify(sent)).not.toContain(key);
	});

	it('sends the API key as a query parameter when the credential says so', async () => {
		const profile = await newProfile({});
		const { sent } = await run({ authentication: 'apiKey', options: { includeRequest: true } }, [profile], {
			credentials: [{ type: 'profileWebhookApi', data: { apiKey: key, headerName: 'X-API-Key', sendIn: 'query', queryParameterName: 'api_key' } }],
		});
		expect(new URL(receiver.requests[0].url, receiver.url).searchParams.get('api_key')).toBe(key);
		expect(JSON.stringify(sent)).not.toContain(key);
	});
});

describe('Profile Webhook: items from any node', () => {
	it('uses a plain item as the profile, each field a property', async () => {
		const email = `${randomUUID()}@example.test`;
		const { sent } = await run({ url: `${receiver.url}/crm/{{email.0}}`, body: '{"email":"{{email.0}}","plan":"{{plan.0}}"}' }, [], {
			items: [{ json: { email, plan: 'gold', nested: { ignored: true }, empty: '' } }],
		});
		expect(receiver.requests[0].url).toBe(`/crm/${encodeURIComponent(email)}`);
		expect(JSON.parse(receiver.requests[0].body)).toEqual({ email, plan: 'gold' });
		expect(sent[0].json).toMatchObject({ profileId: null, profile: { properties: { email: [email], plan: ['gold'] } } });
	});

	it('refuses a trigger item without a profile, saying its state', async () => {
		const item = { json: { state: 'NOTFOUND', profileId: null, profile: null } };
		await expect(run({}, [], { items: [item] })).rejects.toThrow(/no profile \(state NOTFOUND\)/);
		const { sent } = await run({}, [], { items: [item], continueOnFail: true });
		expect(sent[0].json.error).toMatchObject({ message: expect.stringMatching(/NOTFOUND/) });
		expect(receiver.requests).toHaveLength(0);
	});

	it('Property Change for items not in the store: remembered by identifier, so an unchanged item is not sent again', async () => {
		const email = `${randomUUID()}@example.test`;
		const nodeId = randomUUID();
		const parameters = { triggerOn: 'propertyChange', triggerProperties: 'plan' };
		const item = (plan: string) => [{ json: { email, plan } }];
		expect((await run(parameters, [], { nodeId, items: item('gold') })).sent).toHaveLength(1);
		const again = await run(parameters, [], { nodeId, items: item('gold') });
		expect((again.skipped[0].json.skipped as { code: string }).code).toBe('NO_CHANGE');
		expect((await run(parameters, [], { nodeId, items: item('silver') })).sent).toHaveLength(1);
		expect(receiver.requests).toHaveLength(2);
		expect(await store.getSentSnapshot(`wf-under-test:${nodeId}`, `identifier:DEFAULT:email=${email}`)).toEqual({ plan: ['silver'] });
	});

	it('the identifier property for items not in the store is an option', async () => {
		const nodeId = randomUUID();
		const parameters = { triggerOn: 'propertyChange', triggerProperties: 'plan', options: { identifierProperty: 'crmId' } };
		const crmId = randomUUID();
		await run(parameters, [], { nodeId, items: [{ json: { crmId, plan: 'gold' } }] });
		expect(await store.getSentSnapshot(`wf-under-test:${nodeId}`, `identifier:DEFAULT:crmId=${crmId}`)).toEqual({ plan: ['gold'] });
	});
});

describe('Profile Webhook: parameters per item', () => {
	it('evaluates an n8n expression in Segments and Trigger Properties for each item, not once for item 0', async () => {
		const customer = await newProfile({ segments: ['customers'], plan: ['gold'] });
		const prospect = await newProfile({ segments: ['prospects'], plan: ['gold'] });
		const items = [customer, prospect].map((profile, i) => ({
			json: { ...profile, wanted: i === 0 ? 'customers' : 'prospects' } as unknown as INodeExecutionData['json'],
		}));
		const { sent, skipped } = await run({ segments: '={{ $json.wanted }}' }, [], { items });
		expect(sent.map((i) => i.json.profileId)).toEqual([customer.id, prospect.id]);
		expect(skipped).toHaveLength(0);

		const nodeId = randomUUID();
		const watch = (profile: Profile, property: string) => ({ json: { ...profile, watch: property } as unknown as INodeExecutionData['json'] });
		const a = await newProfile({ plan: ['gold'] });
		await run({ triggerOn: 'propertyChange', triggerProperties: '={{ $json.watch }}' }, [], { nodeId, items: [watch(a, 'plan')] });
		// Same profile, same node: with "plan" watched it is unchanged; with "email" watched there is no snapshot value yet.
		const second = await run({ triggerOn: 'propertyChange', triggerProperties: '={{ $json.watch }}' }, [], {
			nodeId,
			items: [watch(a, 'plan'), watch(a, 'email')],
		});
		expect((second.skipped[0].json.skipped as { code: string }).code).toBe('NO_CHANGE');
		expect(second.sent).toHaveLength(1);
	});
});

describe('Profile Webhook: what a run marks (snapshots)', () => {
	const goal = (nodeId: string) => `wf-under-test:${nodeId}`;

	it('Trigger On = Always keeps no snapshot at all', async () => {
		const profile = await newProfile({ plan: ['gold'] });
		const nodeId = randomUUID();
		await run({ triggerOn: 'always' }, [profile], { nodeId });
		expect(receiver.requests).toHaveLength(1);
		expect(await store.getSentSnapshot(goal(nodeId), profile.id)).toBeUndefined();
	});

	it('a manual run sends and shows the request but marks nothing: no snapshot, no mapped value in the store', async () => {
		const profile = await newProfile({ plan: ['gold'] });
		const nodeId = randomUUID();
		receiver.reply = () => ({ status: 200, body: { id: 'crm-1' } });
		const parameters = {
			triggerOn: 'propertyChange',
			triggerProperties: 'plan',
			responseMappings: { mapping: [{ path: '$.id', property: 'crm_id', mode: 'set' }] },
		};
		const manual = await run(parameters, [profile], { nodeId, mode: 'manual' });
		expect(manual.sent[0].json).toMatchObject({ request: { method: 'POST' }, profile: { properties: { crm_id: ['crm-1'] } } });
		expect(await store.getSentSnapshot(goal(nodeId), profile.id)).toBeUndefined();
		expect((await store.get(profile.id))!.properties.crm_id).toBeUndefined();
		// Production still sends it, and marks it.
		expect((await run(parameters, [profile], { nodeId })).sent).toHaveLength(1);
		expect((await store.get(profile.id))!.properties.crm_id).toEqual(['crm-1']);
		expect((await run(parameters, [profile], { nodeId })).skipped).toHaveLength(1);
	});

	it('a 2xx whose response mapping fails still counts as sent: reported on the item, never re-sent', async () => {
		const profile = await newProfile({ plan: ['gold'], score: [1] });
		const nodeId = randomUUID();
		receiver.reply = () => ({ status: 200, body: { score: 'not a number' } });
		const parameters = {
			triggerOn: 'propertyChange',
			triggerProperties: 'plan',
			responseMappings: { mapping: [{ path: '$.score', property: 'score', mode: 'sum' }] },
		};
		await expect(run(parameters, [profile], { nodeId })).rejects.toThrow(/answered 200 and the request counts as sent, but mapping the response failed/);
		expect(await store.getSentSnapshot(goal(nodeId), profile.id)).toEqual({ plan: ['gold'] });
		const again = await run(parameters, [profile], { nodeId, continueOnFail: true });
		expect((again.skipped[0].json.skipped as { code: string }).code).toBe('NO_CHANGE');
		expect(receiver.requests).toHaveLength(1);

		const other = await newProfile({ plan: ['gold'], score: [1] });
		const reported = await run(parameters, [other], { nodeId, continueOnFail: true });
		expect(reported.sent[0].json).toMatchObject({ response: { status: 200 }, error: { message: expect.stringMatching(/Mapping the response failed/) } });
		expect(await store.getSentSnapshot(goal(nodeId), other.id)).toEqual({ plan: ['gold'] });
	});

	it('snapshots of items sent before an item stopped the execution are kept', async () => {
		const first = await newProfile({ plan: ['gold'] });
		const second = await newProfile({ plan: ['gold'] });
		const nodeId = randomUUID();
		receiver.reply = (_r, index) => (index === 0 ? { status: 200, body: {} } : { status: 400, body: { message: 'no' } });
		await expect(
			run({ triggerOn: 'propertyChange', triggerProperties: 'plan', options: { concurrency: 1, retries: 0 } }, [first, second], { nodeId }),
		).rejects.toThrow(/400/);
		expect(await store.getSentSnapshot(goal(nodeId), first.id)).toEqual({ plan: ['gold'] });
		expect(await store.getSentSnapshot(goal(nodeId), second.id)).toBeUndefined();
	});
});

describe('Profile Webhook: connections and what items show', () => {
	it('reuses connections: 30 requests at concurrency 3 with an API key open at most 3', async () => {
		const profiles = await Promise.all(Array.from({ length: 30 }, () => newProfile({})));
		const key = `secret-${randomUUID()}`;
		const { sent } = await run({ authentication: 'apiKey', options: { concurrency: 3 } }, profiles, {
			credentials: [{ type: 'profileWebhookApi', data: { apiKey: key, headerName: 'X-API-Key', sendIn: 'header' } }],
		});
		expect(sent).toHaveLength(30);
		expect(receiver.requests.every((r) => r.headers['x-api-key'] === key)).toBe(true);
		expect(receiver.connections).toBeLessThanOrEqual(3);
	});

	it('a shown request follows the redaction policy: secret headers, URL parameters and body fields are removed', async () => {
		const profile = await newProfile({});
		const { sent } = await run(
			{
				url: `${receiver.url}/c?token=t0p&email={{email.0}}`,
				headers: { header: [{ name: 'Authorization', value: 'Bearer hidden' }, { name: 'X-Trace', value: 'kept' }] },
				body: '{"client_secret": "s3cret", "email": "{{email.0}}"}',
				options: { includeRequest: true },
			},
			[profile],
		);
		const request = sent[0].json.request as { url: string; headers: Record<string, string>; body: string };
		expect(request.url).toBe(`${receiver.url}/c?email=${encodeURIComponent(profile.properties.email[0] as string)}`);
		expect(request.headers).toEqual({ 'X-Trace': 'kept', 'Content-Type': 'application/json' });
		expect(JSON.parse(request.body)).toEqual({ email: profile.properties.email[0] });
		expect(receiver.requests[0].headers.authorization).toBe('Bearer hidden');
	});
});
