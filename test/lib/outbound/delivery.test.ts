import { deliverItems, type DeliveryStore, type ItemSettings, type SendRequest } from '../../../lib/outbound/delivery';
import { profileFromItem, propertiesFromFields, snapshotKey } from '../../../lib/outbound/itemProfile';
import { compileWebhookConfig, type WebhookSettings } from '../../../lib/outbound/webhookConfig';
import type { ProfileProperties } from '../../../lib/profiles/types';

const base: WebhookSettings = {
	profileSource: 'input',
	segments: [],
	objectives: [],
	triggerOn: 'propertyChange',
	triggerProperties: ['plan'],
	triggerEvents: [],
	method: 'POST',
	url: 'https://api.example.com/c/{{email.0}}',
	headers: [],
	bodyFormat: 'json',
	body: '{"plan":"{{plan.0}}"}',
	responseMappings: [],
};

/** An engine that keeps snapshots in memory and counts its batch writes. */
function memoryStore() {
	const snapshots = new Map<string, ProfileProperties>();
	const calls = { batch: 0 };
	const store: DeliveryStore = {
		get: async () => undefined,
		findByIdentifier: async () => ({ ambiguous: false }) as never,
		applyToProfile: async () => {
			throw new Error('not in this test');
		},
		getSentSnapshot: async (goal, key) => snapshots.get(`${goal}|${key}`),
		setSentSnapshots: async (goal, entries) => {
			calls.batch++;
			for (const { key, properties } of entries) snapshots.set(`${goal}|${key}`, properties);
		},
	};
	return { store, snapshots, calls };
}

const settings = (overrides: Partial<WebhookSettings> = {}): ItemSettings => ({
	config: compileWebhookConfig({ ...base, ...overrides }),
	identifierProperty: 'email',
	retries: 0,
	timeoutMs: 1000,
	includeRequest: false,
});

describe('deliverItems (the pipeline with an injected send)', () => {
	const items = [
		{ email: 'a@example.test', plan: 'gold' },
		{ email: 'b@example.test', plan: 'gold' },
		{ email: 'a@example.test', plan: 'gold' },
	];

	it('sends what changed, remembers each identifier once per execution, and writes the snapshots in one batch', async () => {
		const { store, snapshots, calls } = memoryStore();
		const sent: string[] = [];
		const send: SendRequest = async (request) => {
			sent.push(request.url);
			return { status: 200, headers: {}, answer: { status: 200, headers: {}, body: '{}' } };
		};
		const options = { store, goalId: 'g', manual: false, send, concurrency: 1 };
		const results = await deliverItems(items, () => settings(), options, (r) => r.kind);
		// The third item repeats the first within the execution: already sent, so NO_CHANGE.
		expect(results).toEqual(['sent', 'sent', 'skipped']);
		expect(sent).toEqual(['https://api.example.com/c/a%40example.test', 'https://api.example.com/c/b%40example.test']);
		expect(calls).toEqual({ batch: 1 });
		expect(snapshots.get('g|identifier:DEFAULT:email=a@example.test')).toEqual({ plan: ['gold'] });
	});

	it('a manual run and Trigger On = Always write nothing', async () => {
		const send: SendRequest = async () => ({ status: 200, answer: { status: 200, headers: {}, body: '' } });
		const manual = memoryStore();
		await deliverItems(items, () => settings(), { store: manual.store, goalId: 'g', manual: true, send, concurrency: 2 }, (r) => r);
		expect(manual.snapshots.size).toBe(0);
		const always = memoryStore();
		await deliverItems(items, () => settings({ triggerOn: 'always' }), { store: always.store, goalId: 'g', manual: false, send, concurrency: 2 }, (r) => r);
		expect(always.calls).toEqual({ batch: 0 });
	});
});

describe('profiles from items, and snapshot keys', () => {
	it('reads trigger items, stored profiles and plain items', () => {
		const trigger = profileFromItem({ profile: { id: 'p1', properties: { email: ['a@b.c'] } }, changes: {}, identifier: { property: 'email', value: 'a@b.c' } });
		expect(trigger).toMatchObject({ ok: true, item: { shape: 'trigger', identifier: { property: 'email', value: 'a@b.c' } } });
		expect(profileFromItem({ id: 'p2', properties: { x: [1] } })).toMatchObject({ ok: true, item: { shape: 'profile', profile: { id: 'p2' } } });
		expect(profileFromItem({ email: 'a@b.c', n: 3, tags: ['x', { no: 1 }], none: null })).toMatchObject({
			ok: true,
			item: { shape: 'plain', profile: { id: '', properties: { email: ['a@b.c'], n: [3], tags: ['x'] } } },
		});
		expect(profileFromItem({})).toEqual({ ok: false, reason: expect.stringMatching(/no field/) });
		expect(Object.getPrototypeOf(propertiesFromFields(JSON.parse('{"__proto__": "x", "a": "1"}')))).toBeNull();
	});

	it('keys stored profiles by id and others by identifier, never like a UUID', () => {
		const read = profileFromItem({ email: 'a@b.c' });
		if (!read.ok) throw new Error(read.reason);
		const profile = read.item.profile;
		expect(snapshotKey(read.item, profile, false, 'email')).toBe('identifier:DEFAULT:email=a@b.c');
		expect(snapshotKey(read.item, { ...profile, id: 'uuid-1' }, true, 'email')).toBe('uuid-1');
		expect(snapshotKey(read.item, profile, false, 'crmId')).toBeUndefined();
	});
});
