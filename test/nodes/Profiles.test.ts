/**
 * The Profiles node in n8n-core's real ExecuteContext (and LoadOptionsContext), on the real
 * embedded SQLite store in a user folder of its own (segment definitions apply to every stored
 * profile, so this file does not share a store with the other node tests).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FilterValue, IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { ProfileWebhookApi } from '../../credentials/ProfileWebhookApi.credentials';
import type { ProfileEngine } from '../../lib/profiles/engine';
import type { Profile } from '../../lib/profiles/types';
import { closeProfileStores, getProfileEngine, n8nUserFolder } from '../../lib/store/registry';
import { defaultStorePath } from '../../lib/store/sqlite/SqliteStore';
import { ProfileWebhook } from '../../nodes/ProfileWebhook/ProfileWebhook.node';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { Profiles } from '../../nodes/Profiles/Profiles.node';
import { runExecuteNode, runLoadOptions, startWebhookNode } from '../helpers/n8n';
import { startReceiver, type Receiver } from '../helpers/receiver';

const previousUserFolder = process.env.N8N_USER_FOLDER;
let store: ProfileEngine;

beforeAll(() => {
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'n8n-profiles-node-'));
	store = getProfileEngine();
});
afterAll(async () => {
	await closeProfileStores();
	process.env.N8N_USER_FOLDER = previousUserFolder;
});

const uniqueEmail = (label = 'p') => `${label}-${randomUUID().slice(0, 8)}@example.test`;

interface RunOptions {
	items?: INodeExecutionData[];
	continueOnFail?: boolean;
	mode?: 'manual' | 'trigger';
	messages?: unknown[];
}

async function run(parameters: INodeParameters, opts: RunOptions = {}): Promise<INodeExecutionData[]> {
	const { outputs } = await runExecuteNode({
		nodeType: new Profiles(),
		parameters,
		items: opts.items ?? [{ json: {} }],
		continueOnFail: opts.continueOnFail,
		mode: opts.mode ?? 'trigger',
		additionalData: {
			sendDataToUI: (type: string, data: IDataObject | IDataObject[]) => opts.messages?.push({ type, data }),
		},
	});
	return outputs[0];
}

const json = (items: INodeExecutionData[]) => items.map((item) => item.json as Record<string, unknown>);

/** n8n's filter parameter value as the editor stores it. */
function filter(
	conditions: Array<[left: string, type: string, operation: string, right?: unknown]>,
	combinator: 'and' | 'or' = 'and',
): FilterValue {
	return {
		options: { caseSensitive: true, leftValue: '', typeValidation: 'loose', version: 2 },
		combinator,
		conditions: conditions.map(([leftValue, type, operation, rightValue]) => ({
			id: randomUUID(),
			leftValue,
			rightValue: rightValue ?? '',
			operator: { type, operation, ...(['exists', 'notExists', 'empty', 'notEmpty', 'true', 'false'].includes(operation) ? { singleValue: true } : {}) },
		})),
	} as FilterValue;
}

const upsert = (email: string, properties: Array<{ property: string; value: unknown; mode?: string }>, extra: INodeParameters = {}) =>
	run({
		resource: 'profile',
		operation: 'upsert',
		identifierProperty: 'email',
		identifierValue: email,
		properties: { property: properties.map((p) => ({ mode: "set", ...p })) } as unknown as INodeParameters,
		...extra,
	});

describe('Profiles: upsert', () => {
	it('creates, then updates with the import modes, reporting changes and events', async () => {
		const email = uniqueEmail('upsert');
		const [created] = json(
			await upsert(email, [
				{ property: 'firstname', value: 'Ada' },
				{ property: 'visits', value: 2, mode: 'sum' },
				{ property: 'tags', value: '={{ ["a", "b"] }}', mode: 'add' },
				{ property: 'nickname', value: '' },
			], {
				timelineEvents: { event: [{ eventType: 'signup', date: '1700000000', eventId: 'evt-1', data: '{"plan":"pro"}' }] },
			}),
		);
		expect(created).toMatchObject({
			state: 'CREATED',
			identifier: { property: 'email', value: email },
			domainGroup: 'DEFAULT',
			legislation: 'NONE',
		});
		const profile = created.profile as Profile;
		expect(profile.properties).toEqual({ email: [email], firstname: ['Ada'], visits: [2], tags: ['a', 'b'] });
		expect(created.timelineEvents).toEqual([
			{ id: 'evt-1', eventType: 'signup', date: new Date(1_700_000_000_000).toISOString(), data: { plan: 'pro' } },
		]);

		const [updated] = json(
			await upsert(email, [
				{ property: 'visits', value: '3', mode: 'sum' },
				{ property: 'tags', value: 'b', mode: 'add' },
				{ property: 'firstname', value: 'Bea', mode: 'setIfEmpty' },
			]),
		);
		expect(updated.state).toBe('MODIFIED');
		expect(updated.profileId).toBe(profile.id);
		expect(updated.changes).toEqual({ visits: { mode: 'sum', before: [2], after: [5] } });

		const [again] = json(await upsert(email, [{ property: 'visits', value: null, mode: 'sum' }]));
		expect(again.state).toBe('UNCHANGED');
		const feed = (await store.export(profile.id))!.changes;
		expect(feed.map((entry) => entry.source)).toEqual(['profiles', 'profiles']);
	});

	it('refuses what the trigger refuses, with the same issues, and writes nothing', async () => {
		const trigger = await startWebhookNode({
			nodeType: new ProfileWebhookTrigger(),
			parameters: {
				path: 'same-rules',
				authentication: 'none',
				identifierProperty: 'email',
				createProfiles: true,
				mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] },
			},
			credentialTypes: [new ProfileWebhookApi()],
		});
		try {
			const email = uniqueEmail('refused');
			await upsert(email, [{ property: 'visits', value: 9007199254740990, mode: 'sum' }]);
			const response = await fetch(`${trigger.url}?property=email&email=${encodeURIComponent(email)}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ visits: 10 }),
			});
			const answer = (await response.json()) as { error: { issues: unknown[] } };
			expect(response.status).toBe(422);

			await expect(upsert(email, [{ property: 'visits', value: 10, mode: 'sum' }])).rejects.toMatchObject({
				name: 'NodeOperationError',
				message: expect.stringMatching(/^Nothing was written: visits: /),
				description: (answer.error.issues as Array<{ target: string; message: string }>).map((i) => `${i.target}: ${i.message}`).join('\n'),
			});
			expect((await store.findByIdentifier('DEFAULT', 'email', email)).profile?.properties.visits).toEqual([9007199254740990]);

			const { outputs } = await runExecuteNode({
				nodeType: new Profiles(),
				parameters: {
					resource: 'profile',
					operation: 'upsert',
					identifierProperty: 'email',
					identifierValue: '={{ $json.email }}',
					properties: { property: [{ property: 'visits', value: '={{ $json.visits }}', mode: 'sum' }] },
				},
				items: [{ json: { email, visits: 10 } }, { json: { email, visits: 1 } }],
				continueOnFail: true,
			});
			expect(outputs[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
			expect(outputs[0][0].json).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String), issues: answer.error.issues } });
			expect(outputs[0][1].json).toMatchObject({ state: 'MODIFIED', changes: { visits: { before: [9007199254740990], after: [9007199254740991] } } });
		} finally {
			await trigger.close();
		}
	});

	it('names configuration problems: an empty property, an unknown mode, a date that is not one', async () => {
		await expect(upsert(uniqueEmail(), [{ property: '', value: 'x' }, { property: 'a', value: 'x', mode: 'replace' }])).rejects.toMatchObject({
			description: expect.stringMatching(/Property 1: the property name is empty\nProperty 2: mode: unknown import mode "replace"/),
		});
		await expect(
			upsert(uniqueEmail(), [], { timelineEvents: { event: [{ eventType: 'x', date: 'not a date', data: '{}' }] } }),
		).rejects.toMatchObject({ description: 'Timeline Event 1: the date "not a date" is not a date' });
		await expect(upsert('', [{ property: 'a', value: 'x' }])).rejects.toMatchObject({
			message: expect.stringMatching(/identifier property "email" must not be empty/),
		});
	});
});

describe('Profiles: get', () => {
	it('gets by id and by identifier, with the timeline when asked; says when nothing is found', async () => {
		const email = uniqueEmail('get');
		const created = await store.create({ properties: { email: [email] }, events: [{ eventType: 'visit' }] });
		const [byId] = json(await run({ resource: 'profile', operation: 'get', findBy: 'id', profileId: created.id, includeTimeline: true }));
		expect(byId).toMatchObject({ found: true, profileId: created.id, profile: { id: created.id, properties: { email: [email] } } });
		expect((byId.profile as Profile).timeline).toHaveLength(1);
		const [byIdentifier] = json(await run({ resource: 'profile', operation: 'get', identifierProperty: 'email', identifierValue: email }));
		expect(byIdentifier).toMatchObject({ found: true, profileId: created.id, identifier: { property: 'email', value: email } });
		expect((byIdentifier.profile as Profile).timeline).toBeUndefined();

		const [missing] = json(await run({ resource: 'profile', operation: 'get', identifierProperty: 'email', identifierValue: uniqueEmail('nobody') }));
		expect(missing).toMatchObject({ found: false, profileId: null, profile: null });
	});

	it('says when several profiles hold the identifier (the earliest wins)', async () => {
		const email = uniqueEmail('twice');
		const first = await store.create({ properties: { email: [email] } });
		await store.create({ properties: { email: [email] } });
		const [item] = json(await run({ resource: 'profile', operation: 'get', identifierProperty: 'email', identifierValue: email }));
		expect(item).toMatchObject({ found: true, ambiguous: true, profileId: first.id });
	});
});

describe('Profiles: search', () => {
	it('finds profiles by conditions from n8n filter values, page by page', async () => {
		const batch = `b-${randomUUID().slice(0, 8)}`;
		await store.importProfiles(
			Array.from({ length: 1_205 }, (_, i) => ({
				properties: { email: [`${batch}-${i}@example.test`], batch: [batch], score: [i], city: [i % 2 ? 'Paris' : 'Rome'] },
			})),
		);
		const search = (conditions: FilterValue, extra: INodeParameters = {}) =>
			run({ resource: 'profile', operation: 'search', conditions, ...extra });

		const all = await search(filter([['batch', 'string', 'equals', batch]]), { returnAll: true });
		expect(all).toHaveLength(1_205); // more than one page of the engine (1,000)
		expect(new Set(all.map((i) => (i.json as unknown as Profile).id)).size).toBe(1_205);

		expect(await search(filter([['batch', 'string', 'equals', batch]]), { limit: 7 })).toHaveLength(7);

		const rich = await search(
			filter([
				['batch', 'string', 'equals', batch],
				['score', 'number', 'gte', 1_200],
				['city', 'string', 'equals', 'paris'],
			]),
			{ returnAll: true, options: { ignoreCase: true } },
		);
		expect(rich.map((i) => (i.json as unknown as Profile).properties.score[0]).sort()).toEqual([1201, 1203]);

		const either = await search(
			filter([['email', 'string', 'equals', `${batch}-3@example.test`], ['email', 'string', 'startsWith', `${batch}-100`]], 'or'),
			{ returnAll: true },
		);
		expect(either).toHaveLength(1 + 11); // -3, -100, -1000 .. -1009
	});

	it('refuses operations it cannot translate, and an expression as the property name', async () => {
		await expect(
			run({ resource: 'profile', operation: 'search', conditions: filter([['email', 'string', 'regex', '^a']]) }),
		).rejects.toMatchObject({ message: expect.stringMatching(/Condition 1: regular expressions are not supported/) });
		await expect(
			run({ resource: 'profile', operation: 'search', conditions: filter([['={{ $json.email }}', 'string', 'equals', 'x']]) }),
		).rejects.toMatchObject({ message: expect.stringMatching(/Condition 1: the left value must be a property name typed as plain text/) });
	});
});

describe('Profiles: export and erase', () => {
	it('exports everything stored about a profile', async () => {
		const email = uniqueEmail('export');
		const [written] = json(
			await upsert(email, [{ property: 'firstname', value: 'Eve' }], {
				timelineEvents: { event: [{ eventType: 'order', eventId: 'o-1', data: '{"total": 12}' }] },
			}),
		);
		const profileId = written.profileId as string;
		await store.setSentSnapshot('goal-1', profileId, { firstname: ['Eve'] });
		const [exported] = json(await run({ resource: 'profile', operation: 'export', identifierProperty: 'email', identifierValue: email }));
		expect(exported).toMatchObject({
			found: true,
			profileId,
			profile: { id: profileId, properties: { email: [email], firstname: ['Eve'] }, timeline: [{ id: 'o-1', data: { total: 12 } }] },
			sentSnapshots: [{ goalId: 'goal-1', properties: { firstname: ['Eve'] } }],
			changes: [{ profileId, state: 'CREATED', source: 'profiles' }],
		});
		const unknown = randomUUID();
		const [none] = json(await run({ resource: 'profile', operation: 'export', findBy: 'id', profileId: unknown }));
		expect(none).toEqual({ found: false, profileId: unknown });
	});

	it('erases every profile with the identifier: search and get find nothing, and the bytes are gone from the files', async () => {
		const marker = `forget-${randomUUID().slice(0, 8)}@example.test`;
		const [written] = json(
			await upsert(marker, [{ property: 'note', value: `${marker} wrote a long note `.repeat(10) }], {
				timelineEvents: { event: [{ eventType: 'visit', data: JSON.stringify({ who: marker }) }] },
			}),
		);
		const second = await store.create({ properties: { email: [marker] } });
		await store.setSentSnapshot('goal-2', written.profileId as string, { email: [marker] });
		await store.create({ properties: { email: [uniqueEmail('bystander')] } });
		const path = defaultStorePath(n8nUserFolder());
		const files = [path, `${path}-wal`];
		const holding = () => files.filter((file) => existsSync(file) && readFileSync(file).includes(Buffer.from(marker)));
		expect(holding().length).toBeGreaterThan(0); // otherwise the check below would prove nothing

		const [erased] = json(await run({ resource: 'profile', operation: 'erase', identifierProperty: 'email', identifierValue: marker }));
		expect(erased).toMatchObject({ erased: true, identifier: { property: 'email', value: marker } });
		expect((erased.profileIds as string[]).sort()).toEqual([written.profileId as string, second.id].sort());

		expect(await run({ resource: 'profile', operation: 'search', conditions: filter([['email', 'string', 'equals', marker]]), returnAll: true })).toEqual([]);
		const [got] = json(await run({ resource: 'profile', operation: 'get', identifierProperty: 'email', identifierValue: marker }));
		expect(got.found).toBe(false);
		expect(await store.getSentSnapshot('goal-2', written.profileId as string)).toBeUndefined();
		expect(holding()).toEqual([]);

		const [again] = json(await run({ resource: 'profile', operation: 'erase', findBy: 'id', profileId: written.profileId as string }));
		expect(again).toMatchObject({ erased: false, profileIds: [] });
	});
});

describe('Profiles: consent', () => {
	it('records consent and refusal, which the one consent rule then reads', async () => {
		const email = uniqueEmail('consent');
		await upsert(email, [{ property: 'firstname', value: 'Gus' }], { upsertOptions: { legislation: 'GDPR' } });
		const gated = () => upsert(email, [{ property: 'firstname', value: 'Gus 2' }], { upsertOptions: { objectives: 'marketing' } });
		expect(json(await gated())[0].state).toBe('CONSENT_MISMATCH');

		const [recorded] = json(
			await run({ resource: 'consent', operation: 'record', identifierProperty: 'email', identifierValue: email, consented: 'marketing, analytics', refused: 'profiling' }),
		);
		expect(recorded).toMatchObject({
			state: 'MODIFIED',
			changes: {
				consented_objectives: { before: [], after: ['marketing', 'analytics'] },
				refused_objectives: { before: [], after: ['profiling'] },
			},
		});
		expect(json(await gated())[0].state).toBe('MODIFIED');

		const [refused] = json(await run({ resource: 'consent', operation: 'record', identifierProperty: 'email', identifierValue: email, refused: 'marketing' }));
		expect((refused.profile as Profile).properties).toMatchObject({ consented_objectives: ['analytics'], refused_objectives: ['profiling', 'marketing'] });
		expect(json(await gated())[0].state).toBe('CONSENT_MISMATCH');

		const [missing] = json(await run({ resource: 'consent', operation: 'record', findBy: 'id', profileId: randomUUID(), consented: 'x' }));
		expect(missing.state).toBe('NOTFOUND');
	});
});

describe('Profiles: segments', () => {
	let receiver: Receiver;
	beforeAll(async () => {
		receiver = await startReceiver();
	});
	afterAll(async () => receiver.close());

	it('defines a segment, evaluates every stored profile with progress, keeps membership on writes, lists and deletes it', async () => {
		const segment = `Big spenders ${randomUUID().slice(0, 6)}`;
		const rich = uniqueEmail('rich');
		const poor = uniqueEmail('poor');
		await upsert(rich, [{ property: 'spent', value: 500 }]);
		await upsert(poor, [{ property: 'spent', value: 5 }]);
		const total = await store.countProfiles();

		const messages: unknown[] = [];
		const [defined] = json(
			await run(
				{ resource: 'segment', operation: 'define', segmentName: segment, segmentDescription: 'Spent 100 or more', conditions: filter([['spent', 'number', 'gte', 100]]) },
				{ mode: 'manual', messages },
			),
		);
		expect(defined).toMatchObject({ segment, scanned: total, total, entered: 1, left: 0 });
		expect(defined.conditions).toEqual({ combinator: 'and', conditions: [{ property: 'spent', operator: 'gte', value: 100 }] });
		expect(JSON.stringify(messages)).toContain(`Segment \\"${segment}\\": ${total} of ${total} profiles evaluated (1 entered, 0 left)`);

		const segmentsOf = async (email: string) => ((await store.findByIdentifier('DEFAULT', 'email', email)).profile?.properties.segments ?? []);
		expect(await segmentsOf(rich)).toEqual([segment]);
		expect(await segmentsOf(poor)).toEqual([]);

		// Evaluated on every write: the poorer profile spends, enters, and the report says so.
		const [spent] = json(await upsert(poor, [{ property: 'spent', value: 200, mode: 'sum' }]));
		expect(spent).toMatchObject({ segmentsEntered: [segment], changes: { segments: { before: [], after: [segment] } } });

		const listed = json(await run({ resource: 'segment', operation: 'list' }));
		expect(listed[0]).toMatchObject({ name: 'All Visitors', builtIn: true });
		expect(listed.find((s) => s.name === segment)).toMatchObject({ description: 'Spent 100 or more', builtIn: false });

		// The editor's pickers: the Profile Webhook offers All Visitors and the defined ones.
		const offered = await runLoadOptions({ nodeType: new ProfileWebhook(), parameters: {} }, 'getSegments', 'parameters.segments');
		expect(offered.map((o) => o.value)).toEqual(expect.arrayContaining(['All Visitors', segment]));
		const deletable = await runLoadOptions({ nodeType: new Profiles(), parameters: { resource: 'segment', operation: 'delete' } }, 'getDefinedSegments');
		expect(deletable.map((o) => o.value)).toContain(segment);
		expect(deletable.map((o) => o.value)).not.toContain('All Visitors');

		// The Profile Webhook sends members only, whether the segments parameter is a list or old text.
		receiver.reset();
		const send = async (segments: unknown) => {
			const profiles = await Promise.all([rich, poor, uniqueEmail('nobody')].map(async (email) => (await store.findByIdentifier('DEFAULT', 'email', email)).profile ?? (await store.create({ properties: { email: [email] } }))));
			const { outputs } = await runExecuteNode({
				nodeType: new ProfileWebhook(),
				parameters: { triggerOn: 'always', method: 'POST', url: `${receiver.url}/x`, segments } as INodeParameters,
				items: profiles.map((profile) => ({ json: profile as unknown as IDataObject })),
			});
			return { sent: outputs[0].length, skipped: outputs[1].map((i) => (i.json.skipped as IDataObject).code) };
		};
		expect(await send([segment])).toEqual({ sent: 2, skipped: ['NOT_IN_SEGMENT'] });
		expect(await send(`other, ${segment}`)).toEqual({ sent: 2, skipped: ['NOT_IN_SEGMENT'] });
		expect(await send(['All Visitors'])).toEqual({ sent: 3, skipped: [] });

		// A changed definition re-evaluates: members that no longer match leave.
		const [redefined] = json(
			await run({ resource: 'segment', operation: 'define', segmentName: segment, conditions: filter([['spent', 'number', 'gt', 300]]) }),
		);
		expect(redefined).toMatchObject({ entered: 0, left: 1 });
		expect(await segmentsOf(poor)).toEqual([]);

		const [deleted] = json(await run({ resource: 'segment', operation: 'delete', segmentToDelete: segment }));
		expect(deleted).toMatchObject({ segment, deleted: true, left: 1 });
		expect(await segmentsOf(rich)).toEqual([]);
		expect(json(await run({ resource: 'segment', operation: 'list' })).map((s) => s.name)).not.toContain(segment);
	});

	it('refuses to define All Visitors, a nameless segment, or conditions it cannot translate', async () => {
		const define = (segmentName: string, conditions: FilterValue = filter([])) =>
			run({ resource: 'segment', operation: 'define', segmentName, conditions });
		await expect(define('All Visitors')).rejects.toMatchObject({ message: expect.stringMatching(/built in/) });
		await expect(define(' ')).rejects.toMatchObject({ message: expect.stringMatching(/a segment needs a name/) });
		await expect(define('Dated', filter([['signup', 'dateTime', 'after', '2024-01-01']]))).rejects.toMatchObject({
			message: expect.stringMatching(/Condition 1: date comparisons are not supported/),
		});
		const [failed] = json(
			await runExecuteNode({
				nodeType: new Profiles(),
				parameters: { resource: 'segment', operation: 'define', segmentName: 'x', conditions: filter([['tags', 'array', 'lengthGt', 2]]) },
				items: [{ json: {} }],
				continueOnFail: true,
			}).then((r) => r.outputs[0]),
		);
		expect(failed).toMatchObject({ error: { code: 'CONFIGURATION_INVALID', issues: [{ target: 'Conditions: Condition 1' }] } });
	});
});
