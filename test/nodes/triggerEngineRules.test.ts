/**
 * The holes issue 11 closed, each tried as an attacker would: through the Profile Webhook Trigger in
 * n8n-core's real WebhookContext, against the real embedded store. Every test here failed on the
 * code before the profile engine.
 */
import { randomUUID } from 'node:crypto';

import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { serveTrigger, TRIGGER_API_KEY, type TriggerServer } from '../helpers/triggerClient';

let engine: ProfileEngine;
const servers: TriggerServer[] = [];
const email = () => `a-${randomUUID().slice(0, 8)}@example.test`;

async function serve(parameters: Parameters<typeof serveTrigger>[0], nodeId?: string): Promise<TriggerServer> {
	const server = await serveTrigger({ createProfiles: true, ...parameters }, nodeId);
	servers.push(server);
	return server;
}

async function stored(address: string) {
	const found = await engine.findByIdentifier('DEFAULT', 'email', address);
	return found.profile ? await engine.get(found.profile.id, { timeline: true }) : undefined;
}

beforeAll(() => {
	engine = getProfileEngine();
});

afterAll(async () => {
	await Promise.all(servers.map((s) => s.close()));
});

describe('batches (recordsPath)', () => {
	const batch = () =>
		serve({
			mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] },
			options: { recordsPath: '$.events[*]', identifierField: '$.email' },
		});

	it('a failing record is rolled back alone and reported; the others are written; 200', async () => {
		const server = await batch();
		const [a, b, c] = [email(), email(), email()];
		const answer = await server.send('', {
			json: { events: [{ email: a, visits: 1 }, { email: b, visits: 'lots' }, { email: c, visits: 2 }] },
		});
		expect(answer.status).toBe(200);
		const results = answer.body.results as Array<Record<string, unknown>>;
		expect(results.map((r) => r.state ?? (r.error as { code: string }).code)).toEqual(['CREATED', 'VALIDATION_FAILED', 'CREATED']);
		expect((results[1].error as { message: string }).message).toMatch(/^record 1: /);
		expect((await stored(a))?.properties.visits).toEqual([1]);
		expect(await stored(b)).toBeUndefined();
		expect((await stored(c))?.properties.visits).toEqual([2]);
		expect(server.executions).toHaveLength(1);
		expect(server.executions[0].items[0]).toHaveLength(2);
	});

	it('a record without an identifier loses only itself (Salesforce Marketing Cloud ENS batches)', async () => {
		const server = await batch();
		const [a, c] = [email(), email()];
		const answer = await server.send('', { json: { events: [{ email: a, visits: 1 }, { visits: 5 }, { email: c, visits: 1 }] } });
		expect(answer.status).toBe(200);
		const results = answer.body.results as Array<Record<string, unknown>>;
		expect(results[1]).toEqual({ error: expect.objectContaining({ code: 'MISSING_IDENTIFIER' }) });
		expect(results[0]).toMatchObject({ state: 'CREATED' });
		expect(results[2]).toMatchObject({ state: 'CREATED' });
	});
});

describe('sums', () => {
	it('{"visits":1e308}: 422 and nothing written (never a stored null that breaks every later sum)', async () => {
		const server = await serve({ mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] } });
		const who = email();
		for (let i = 0; i < 2; i++) {
			const answer = await server.send(`?email=${who}`, { body: '{"visits":1e308}' });
			expect(answer.status).toBe(422);
			expect(await stored(who)).toBeUndefined();
		}
		expect((await server.send(`?email=${who}`, { json: { visits: 2.5 } })).body.state).toBe('CREATED');
		expect((await server.send(`?email=${who}`, { json: { visits: 0.5 } })).body.state).toBe('MODIFIED');
		expect((await stored(who))?.properties.visits).toEqual([3]);
	});

	it('beyond 2^53 a +1 is refused (422), not answered UNCHANGED', async () => {
		const server = await serve({ mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] } });
		const who = email();
		await server.send(`?email=${who}`, { body: '{"visits":9007199254740991}' });
		const plusOne = await server.send(`?email=${who}`, { json: { visits: 1 } });
		expect(plusOne.status).toBe(422);
		expect(plusOne.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
	});
});

describe('request shape', () => {
	it('a 10,000-deep JSON value answers 400, not 500', async () => {
		const server = await serve({ mappings: { mapping: [{ field: '$.deep', property: 'deep', mode: 'set' }] } });
		const body = `{"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
		const who = email();
		const answer = await server.send(`?email=${who}`, { body });
		expect(answer.status).toBe(400);
		expect(answer.body.error).toMatchObject({ code: 'BAD_REQUEST' });
		expect(await stored(who)).toBeUndefined();
	});

	it('an object is not an identifier; lone surrogates do not merge identifiers', async () => {
		const server = await serve({ options: { identifierField: '$.email' } });
		const object = await server.send('', { json: { email: { a: 1 } } });
		expect(object.status).toBe(400);
		expect(object.body.error).toMatchObject({ message: expect.stringContaining('must be a string or a number') });
		const one = await server.send('', { body: '{"email":"x\\ud800@example.test"}' });
		const two = await server.send('', { body: '{"email":"x\\ud801@example.test"}' });
		expect([one.status, two.status]).toEqual([400, 400]);
		expect(one.body.error).toMatchObject({ message: expect.stringContaining('not valid Unicode') });
	});

	it('with the API key in the URL and a mapping $.*, the key is not stored', async () => {
		const server = await serve({
			mappings: { mapping: [{ field: '$.*', property: 'everything', mode: 'add' }] },
			options: { allowApiKeyInUrl: true },
		});
		const who = email();
		const answer = await fetch(`${server.url}?property=email&email=${who}&apiKey=${TRIGGER_API_KEY}&access_token=tok-123&plan=gold`);
		expect(answer.status).toBe(200);
		const profile = await stored(who);
		expect(JSON.stringify(profile)).not.toContain(TRIGGER_API_KEY);
		expect(JSON.stringify(profile)).not.toContain('tok-123');
		expect(profile?.properties.everything).toContain('gold');
	});

	it('a profile cannot grow past its size limit (eight 1 MB adds)', async () => {
		const server = await serve({
			mappings: { mapping: [{ field: '$.blob', property: 'blobs', mode: 'add' }] },
			options: { maxBodySize: 2048 },
		});
		const who = email();
		const statuses: number[] = [];
		for (let i = 0; i < 8; i++) {
			statuses.push((await server.send(`?email=${who}`, { json: { blob: `${i}`.repeat(1_000_000) } })).status);
		}
		expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
		expect(statuses.filter((s) => s === 422).length).toBeGreaterThanOrEqual(7);
		expect(Buffer.byteLength(JSON.stringify((await stored(who))?.properties ?? {}))).toBeLessThanOrEqual(1_048_576);
	});

	it('a 422 never quotes the stored value of a property', async () => {
		const server = await serve({ mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] } });
		const who = email();
		await engine.applyByIdentifier({
			identifier: { property: 'email', value: who },
			create: true,
			imports: [{ property: 'visits', mode: 'set', values: ['secret-diagnosis-7'] }],
		});
		const answer = await server.send(`?email=${who}`, { json: { visits: 1 } });
		expect(answer.status).toBe(422);
		expect(answer.text).not.toContain('secret-diagnosis-7');
	});
});

describe('idempotency (a platform retrying a delivery)', () => {
	it('a retried delivery answers the first answer, writes nothing and starts no execution: sums stay', async () => {
		const server = await serve({
			mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] },
			options: { idempotencyKey: 'webhook-id', idempotencyWindow: 3600 },
		});
		const who = email();
		const deliver = (id: string) => server.send(`?email=${who}`, { json: { visits: 5 }, headers: { 'webhook-id': id } });
		const first = await deliver('msg_1');
		expect(first.body).toMatchObject({ state: 'CREATED' });
		const seq = await engine.lastChangeSeq();
		const retries = await Promise.all([deliver('msg_1'), deliver('msg_1'), deliver('msg_1')]);
		expect(retries.map((r) => r.body)).toEqual([first.body, first.body, first.body]);
		expect(await engine.lastChangeSeq()).toBe(seq);
		expect((await stored(who))?.properties.visits).toEqual([5]);
		expect(server.executions).toHaveLength(1);
		expect((await deliver('msg_2')).body).toMatchObject({ state: 'MODIFIED' });
		expect((await stored(who))?.properties.visits).toEqual([10]);
	});

	it('keys are per trigger: the same event id sent to another trigger is another delivery', async () => {
		const options = { idempotencyKey: 'webhook-id' };
		const mappings = { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }] };
		const [one, two] = [await serve({ mappings, options }, 'trigger-one'), await serve({ mappings, options }, 'trigger-two')];
		const who = email();
		await one.send(`?email=${who}`, { json: { visits: 1 }, headers: { 'webhook-id': 'same' } });
		await two.send(`?email=${who}`, { json: { visits: 1 }, headers: { 'webhook-id': 'same' } });
		expect((await stored(who))?.properties.visits).toEqual([2]);
	});
});
