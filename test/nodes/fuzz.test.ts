/**
 * A seeded fuzz run through the Profile Webhook Trigger in n8n-core's real WebhookContext, against
 * the real embedded store: hostile JSON and forms, `__proto__` / `constructor` keys, deep nesting,
 * huge numbers, broken Unicode, every import mode, batches, timeline events.
 *
 * Invariants, checked after every request:
 * - no 5xx except 503;
 * - after a 4xx nothing was written (the change feed and the profile count did not move);
 * - Object.prototype is untouched.
 *
 * `npm test` runs FUZZ_REQUESTS (default 2,000) requests with FUZZ_SEED (default 20261130); a longer
 * run: `FUZZ_REQUESTS=50000 npx jest test/nodes/fuzz.test.ts`.
 */
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { serveTrigger, type TriggerServer } from '../helpers/triggerClient';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);

/** mulberry32: small, seeded, good enough to pick test cases. */
function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const random = rng(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
const chance = (p: number) => random() < p;

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'email', 'visits', 'tags', 'a.b', '$', '..', '[0]'];
const NUMBERS = ['0', '-0', '1', '-1', '2.5', '1e308', '-1e308', '1e309', '9007199254740991', '9007199254740993', '1e-320', '0.1', '123456789012345678901234567890', '3', '"3"', '"x"', 'true', 'null'];
const STRINGS = ['"a@example.test"', '"b@example.test"', '"c@example.test"', '"\\ud800"', '"x\\udc00y"', '"\\u0000"', '"  "', '""', '"ÄÖÜ😀"', '"<script>"', '"{{email}}"', '"a,b"'];

function scalar(): string {
	return chance(0.5) ? pick(NUMBERS) : chance(0.1) ? JSON.stringify('x'.repeat(Math.floor(random() * 5000))) : pick(STRINGS);
}

/** JSON text, built as text so `__proto__` arrives as an own key, as a real sender would send it. */
function jsonValue(depth: number): string {
	if (depth > 90 || (depth > 2 && chance(0.4))) return scalar();
	const roll = random();
	if (roll < 0.04) return '['.repeat(70) + ']'.repeat(70); // deeper than the limit
	if (roll < 0.35) {
		const n = Math.floor(random() * 4);
		return `[${Array.from({ length: n }, () => jsonValue(depth + 1)).join(',')}]`;
	}
	if (roll < 0.85) {
		const n = Math.floor(random() * 5);
		return `{${Array.from({ length: n }, () => `${JSON.stringify(pick(HOSTILE_KEYS))}:${jsonValue(depth + 1)}`).join(',')}}`;
	}
	return scalar();
}

function formBody(): string {
	const fields: string[] = [];
	const n = 1 + Math.floor(random() * 5);
	for (let i = 0; i < n; i++) {
		const name = pick([
			'email',
			'visits',
			'tags[]',
			'__proto__[polluted]',
			'constructor[prototype][polluted]',
			'data[merges][EMAIL]',
			'a' + '[x]'.repeat(40),
			'firstName',
			'apiKey',
		]);
		fields.push(`${encodeURIComponent(name)}=${encodeURIComponent(pick(['a@example.test', '1', 'x', '%', '', '2.5', '1e308']))}`);
	}
	return fields.join('&');
}

function query(): string {
	const parts: string[] = [];
	if (chance(0.85)) parts.push(`email=${encodeURIComponent(pick(['a@example.test', 'b@example.test', 'c@example.test', ' ', '', 'x%ED%A0%80']))}`);
	if (chance(0.2)) parts.push(`property=${pick(['email', 'id', ''])}`);
	if (chance(0.1)) parts.push(`email[a]=1`);
	if (chance(0.1)) parts.push(`legislation=${pick(['GDPR', 'NONE', 'gdpr', 'CCPA', ''])}`);
	if (chance(0.1)) parts.push(`domainGroup=${pick(['DEFAULT', 'OTHER', ''])}`);
	if (chance(0.05)) parts.push('__proto__[polluted]=1');
	return parts.length ? `?${parts.join('&')}` : '';
}

interface Case {
	server: TriggerServer;
	query: string;
	init: { body?: string; contentType?: string; method?: string };
}

function nextCase(servers: TriggerServer[]): Case {
	const server = pick(servers);
	const roll = random();
	if (roll < 0.6) return { server, query: query(), init: { body: jsonValue(0), contentType: pick(['application/json', 'application/vnd.api+json', 'text/plain']) } };
	if (roll < 0.8) return { server, query: query(), init: { body: formBody(), contentType: 'application/x-www-form-urlencoded' } };
	if (roll < 0.85) return { server, query: query(), init: { body: '{"email": "a@example.test", ', contentType: 'application/json' } };
	if (roll < 0.9) return { server, query: query(), init: { body: '<xml/>', contentType: 'application/xml' } };
	return { server, query: query(), init: { method: 'GET' } };
}

let engine: ProfileEngine;
const servers: TriggerServer[] = [];

beforeAll(async () => {
	engine = getProfileEngine();
	const modes = ['set', 'setIfEmpty', 'add', 'sum'];
	const mapping = (field: string) => ({ field, property: field.replace(/[^a-zA-Z]/g, '') || 'p', mode: pick(modes) });
	servers.push(
		await serveTrigger({
			createProfiles: true,
			mappings: { mapping: ['$.visits', '$.tags', '$.email', 'firstName', '$.*'].map(mapping) },
			options: { allowCreateFromUrl: true },
		}),
		await serveTrigger({
			createProfiles: true,
			mappings: { mapping: [{ field: '$..visits', property: 'visits', mode: 'sum' }, { field: '$.tags[*]', property: 'tags', mode: 'add' }] },
			timelineEvents: { event: [{ eventType: 'fuzz', dateField: '$.visits', idField: '$.email', dataFields: '$.tags, $.constructor' }] },
		}),
		await serveTrigger({
			createProfiles: true,
			mappings: { mapping: [{ field: '$.visits', property: 'visits', mode: 'sum' }, { field: '$.__proto__', property: 'proto', mode: 'add' }] },
			options: { recordsPath: '$[*]', identifierField: '$.email' },
		}),
		await serveTrigger({
			createProfiles: false,
			mappings: { mapping: [{ field: 'data[merges][EMAIL]', property: 'mcEmail', mode: 'setIfEmpty' }] },
			options: { objectives: 'marketing', identifierField: '$.email' },
		}),
	);
});

afterAll(async () => {
	await Promise.all(servers.map((s) => s.close()));
});

it(`${REQUESTS} seeded requests (seed ${SEED}): no 5xx but 503, nothing written after a 4xx, Object.prototype untouched`, async () => {
	const outcomes = new Map<string, number>();
	const violations: string[] = [];
	const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
	for (let i = 0; i < REQUESTS && violations.length < 5; i++) {
		const c = nextCase(servers);
		const seqBefore = await engine.lastChangeSeq();
		const countBefore = await engine.countProfiles();
		const answer = await c.server.send(c.query, c.init);
		const state = typeof answer.body.state === 'string' ? answer.body.state : Array.isArray(answer.body.results) ? 'batch' : String((answer.body.error as { code?: string } | undefined)?.code ?? '');
		const key = `${answer.status} ${state}`;
		outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
		const where = `request ${i} (${c.init.method ?? 'POST'} ${c.query} ${c.init.contentType ?? ''} ${String(c.init.body ?? '').slice(0, 200)})`;
		if (answer.status >= 500 && answer.status !== 503) violations.push(`${where}: ${answer.status} ${answer.text.slice(0, 300)}`);
		if (answer.status >= 400 && answer.status < 500) {
			if ((await engine.lastChangeSeq()) !== seqBefore || (await engine.countProfiles()) !== countBefore) {
				violations.push(`${where}: ${answer.status} but something was written`);
			}
		}
		if (Object.getOwnPropertyNames(Object.prototype).sort().join(',') !== prototypeKeys || ({} as Record<string, unknown>).polluted !== undefined) {
			violations.push(`${where}: Object.prototype changed`);
		}
	}
	const table = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${k.padEnd(34)} ${n}`);
	console.log(`fuzz: ${REQUESTS} requests, seed ${SEED}, violations ${violations.length}\n${table.join('\n')}`);
	expect(violations).toEqual([]);
});
