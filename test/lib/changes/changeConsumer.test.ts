import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ChangeConsumer, latestMatch, memoryCursors, type Deliver } from '../../../lib/changes/changeConsumer';
import { compileChangeFilter } from '../../../lib/changes/changeFilter';
import { ProfileEngine } from '../../../lib/profiles/engine';
import type { ChangeFeedEntry } from '../../../lib/store/ProfileStore';
import { SqliteStore } from '../../../lib/store/sqlite/SqliteStore';
import { flush, ManualClock, until } from '../../helpers/manualClock';

interface Deferred {
	resolve: () => void;
	reject: (error: Error) => void;
	promise: Promise<void>;
}

function deferred(): Deferred {
	let resolve!: () => void;
	let reject!: (error: Error) => void;
	const promise = new Promise<void>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { resolve, reject, promise };
}

/** A deliverer that records entries; each delivery settles when the test says so (or at once). */
function recorder({ settleAtOnce = true } = {}) {
	const delivered: ChangeFeedEntry[] = [];
	const settles = new Map<number, Deferred>();
	const deliver: Deliver = async (entry) => {
		delivered.push(entry);
		const done = deferred();
		settles.set(entry.seq, done);
		if (settleAtOnce) done.resolve();
		return { settled: done.promise };
	};
	return { delivered, settles, deliver };
}

const tierOrEmail = compileChangeFilter({ triggerOn: ['propertyChange'], properties: ['email', 'tier'] });

describe('ChangeConsumer over a real SQLite store', () => {
	let dir: string;
	let engine: ProfileEngine;
	let clock: ManualClock;
	const consumers: ChangeConsumer[] = [];

	const consumer = (deliver: Deliver, extra: Partial<ConstructorParameters<typeof ChangeConsumer>[0]> = {}) => {
		const made = new ChangeConsumer({
			feed: engine,
			consumerId: 'wf1:node1',
			matches: tierOrEmail,
			deliver,
			clock,
			...extra,
		});
		consumers.push(made);
		return made;
	};

	const write = (email: string, properties: Record<string, string>) =>
		engine.applyByIdentifier({
			identifier: { property: 'email', value: email },
			create: true,
			imports: Object.entries(properties).map(([property, value]) => ({ property, mode: 'set' as const, values: [value] })),
			source: 'trigger:wfA',
		});

	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'change-consumer-test-'));
		engine = new ProfileEngine(new SqliteStore(join(dir, 'profiles.sqlite')));
		clock = new ManualClock();
	});

	afterEach(async () => {
		// stop() may wait (in simulated time) for deliveries a test left unsettled.
		let stopped = false;
		const stopping = Promise.all(consumers.splice(0).map((made) => made.stop())).then(() => {
			stopped = true;
		});
		while (!stopped) {
			clock.advance(1_000);
			await flush();
		}
		await stopping;
		await engine.close();
		rmSync(dir, { recursive: true, force: true });
	});

	test('a new consumer starts at the end of the feed, then delivers matching changes in order and stores its cursor', async () => {
		await write('old@example.com', { tier: 'gold' });
		const before = await engine.lastChangeSeq();
		const { delivered, deliver } = recorder();
		const running = consumer(deliver);
		await running.start();
		expect(await engine.getCursor('wf1:node1')).toBe(before);

		await write('ada@example.com', { tier: 'gold' });
		await write('ada@example.com', { nickname: 'Ada' }); // not a selected property
		await write('ada@example.com', { tier: 'platinum' });
		const last = await engine.lastChangeSeq();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === last, { what: 'the cursor reaching the end' });

		expect(delivered.map((e) => e.changes.tier?.after)).toEqual([['gold'], ['platinum']]);
		expect(delivered.map((e) => e.seq)).toEqual([before + 1, before + 3]);
		expect(delivered.every((e) => e.profileId === delivered[0].profileId)).toBe(true);
	});

	test('the cursor moves only past deliveries that settled, and stops at the oldest one still running', async () => {
		const { delivered, settles, deliver } = recorder({ settleAtOnce: false });
		const running = consumer(deliver);
		await running.start();
		const start = await engine.lastChangeSeq();
		await write('a@example.com', { tier: 'a' });
		await write('b@example.com', { tier: 'b' });
		await write('c@example.com', { tier: 'c' });
		await until(clock, () => delivered.length === 3, { what: 'three deliveries' });
		expect(await engine.getCursor('wf1:node1')).toBe(start);

		settles.get(start + 2)!.resolve(); // the second finishes first
		await until(clock, () => running.stats().inFlight === 2);
		expect(await engine.getCursor('wf1:node1')).toBe(start);

		settles.get(start + 1)!.reject(new Error('the execution failed')); // failed executions settle too
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === start + 2, { what: 'cursor after #1 and #2' });

		settles.get(start + 3)!.resolve();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === start + 3, { what: 'cursor after #3' });
	});

	test('nothing is missed and nothing repeated across a stop and a new consumer with the same id (deactivate/activate, restart)', async () => {
		const first = recorder();
		const one = consumer(first.deliver);
		await one.start();
		await write('a@example.com', { tier: 'gold' });
		await until(clock, () => first.delivered.length === 1);
		await one.stop();

		// Written while no consumer runs (the workflow inactive, n8n down, a batch elsewhere).
		await write('a@example.com', { tier: 'silver' });
		await write('b@example.com', { nickname: 'x' }); // created: its email counts
		const second = recorder();
		const two = consumer(second.deliver);
		await two.start();
		await write('a@example.com', { tier: 'bronze' });
		const last = await engine.lastChangeSeq();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === last);

		const tiers = [...first.delivered, ...second.delivered].map((e) => e.changes.tier?.after?.[0] ?? e.changes.email?.after?.[0]);
		expect(tiers).toEqual(['gold', 'silver', 'b@example.com', 'bronze']);
		const seqs = [...first.delivered, ...second.delivered].map((e) => e.seq);
		expect(new Set(seqs).size).toBe(seqs.length);
	});

	test('a delivery that never settled before the process died is delivered again (at least once)', async () => {
		const first = recorder({ settleAtOnce: false });
		const one = consumer(first.deliver, { stopTimeoutMs: 0 });
		await one.start();
		await write('a@example.com', { tier: 'gold' });
		await write('a@example.com', { tier: 'silver' });
		await until(clock, () => first.delivered.length === 2);
		first.settles.get(first.delivered[0].seq)!.resolve();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === first.delivered[0].seq);
		// The process goes away with the second execution unfinished: stop() does not wait for it.
		await one.stop();

		const second = recorder();
		const two = consumer(second.deliver);
		await two.start();
		await until(clock, () => second.delivered.length === 1);
		expect(second.delivered[0].seq).toBe(first.delivered[1].seq);
	});

	test('stop() waits for deliveries in flight, so a normal shutdown repeats nothing', async () => {
		const first = recorder({ settleAtOnce: false });
		const one = consumer(first.deliver);
		await one.start();
		await write('a@example.com', { tier: 'gold' });
		await until(clock, () => first.delivered.length === 1);
		const stopping = one.stop();
		await flush();
		first.settles.get(first.delivered[0].seq)!.resolve();
		await stopping;
		expect(await engine.getCursor('wf1:node1')).toBe(first.delivered[0].seq);
	});

	test('a delivery that does not settle within the acknowledgement timeout counts as settled', async () => {
		const first = recorder({ settleAtOnce: false });
		const one = consumer(first.deliver, { ackTimeoutMs: 10_000 });
		await one.start();
		await write('a@example.com', { tier: 'gold' });
		await until(clock, () => first.delivered.length === 1);
		expect(await engine.getCursor('wf1:node1')).toBe(first.delivered[0].seq - 1);
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === first.delivered[0].seq, {
			stepMs: 1_000,
			what: 'the cursor after the timeout',
		});
	});

	test('reading pauses at maxInFlight and resumes as deliveries settle', async () => {
		const first = recorder({ settleAtOnce: false });
		const one = consumer(first.deliver, { maxInFlight: 2, pageSize: 10 });
		await one.start();
		for (const tier of ['a', 'b', 'c', 'd']) await write(`${tier}@example.com`, { tier });
		await until(clock, () => first.delivered.length === 2);
		for (let i = 0; i < 5; i++) clock.advance(250);
		await flush();
		expect(first.delivered).toHaveLength(2);
		first.settles.get(first.delivered[0].seq)!.resolve();
		await until(clock, () => first.delivered.length === 3);
		for (const d of first.settles.values()) d.resolve();
		await until(clock, () => first.delivered.length === 4);
	});

	test('a delivery that throws is retried from that entry, with the error reported', async () => {
		const errors: unknown[] = [];
		const delivered: number[] = [];
		let failOnce = true;
		const one = consumer(
			async (entry) => {
				if (entry.changes.tier?.after?.[0] === 'b' && failOnce) {
					failOnce = false;
					throw new Error('the profile store is busy');
				}
				delivered.push(entry.seq);
				return { settled: Promise.resolve() };
			},
			{ onError: (error) => errors.push(error) },
		);
		await one.start();
		await write('a@example.com', { tier: 'a' });
		await write('b@example.com', { tier: 'b' });
		await write('c@example.com', { tier: 'c' });
		const last = await engine.lastChangeSeq();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === last);
		expect(delivered).toEqual([last - 2, last - 1, last]);
		expect(errors.map((e) => (e as Error).message)).toEqual(['the profile store is busy']);
	});

	test('nothing to deliver (a profile erased meanwhile) moves the cursor on', async () => {
		const one = consumer(async () => undefined);
		await one.start();
		await write('a@example.com', { tier: 'a' });
		const last = await engine.lastChangeSeq();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === last);
		expect(one.stats().delivered).toBe(0);
	});

	test('every writer counts: the incoming trigger, a response mapping, consent, a segment definition', async () => {
		const anyKind = compileChangeFilter({ triggerOn: ['propertyChange', 'segmentEntered'], properties: ['tier'], segmentsEntered: ['gold'] });
		const { delivered, deliver } = recorder();
		const one = consumer(deliver, { matches: anyKind });
		await one.start();
		const created = await write('a@example.com', { tier: 'silver' });
		const profileId = created.profile!.id;
		await engine.applyToProfile(profileId, [{ property: 'tier', mode: 'set', values: ['gold'] }], [], { source: 'profileWebhook' });
		await engine.recordConsent(profileId, { consented: ['marketing'] }, { source: 'profiles' }); // no tier change
		await engine.defineSegment({ name: 'gold', conditions: { conditions: [{ property: 'tier', operator: 'equals', value: 'gold' }] } });
		const last = await engine.lastChangeSeq();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === last);
		expect(delivered.map((e) => e.source)).toEqual(['trigger:wfA', 'profileWebhook', 'segment:gold']);
		expect(delivered[2].segmentsEntered).toEqual(['gold']);
	});

	test('a second consumer with the same id in this process replaces the first', async () => {
		const first = recorder();
		const second = recorder();
		const one = consumer(first.deliver);
		await one.start();
		const two = consumer(second.deliver);
		await two.start();
		await write('a@example.com', { tier: 'a' });
		const last = await engine.lastChangeSeq();
		await until(clock, async () => (await engine.getCursor('wf1:node1')) === last);
		expect(first.delivered).toHaveLength(0);
		expect(second.delivered).toHaveLength(1);
	});

	test('notify() reads at once instead of at the next poll', async () => {
		const { delivered, deliver } = recorder();
		const one = consumer(deliver, { pollIntervalMs: 60_000 });
		await one.start();
		await flush();
		await write('a@example.com', { tier: 'a' });
		await flush();
		expect(delivered).toHaveLength(0);
		one.notify();
		for (let i = 0; i < 20 && !delivered.length; i++) await flush();
		expect(delivered).toHaveLength(1);
	});

	test('latestMatch finds the newest matching entry; memory cursors leave the stored cursor alone', async () => {
		await write('a@example.com', { tier: 'a' });
		await write('a@example.com', { tier: 'b' });
		await write('a@example.com', { nickname: 'x' });
		const latest = await latestMatch(engine, tierOrEmail);
		expect(latest?.changes.tier?.after).toEqual(['b']);
		expect(await latestMatch(engine, compileChangeFilter({ triggerOn: ['event'] }))).toBeUndefined();

		const { delivered, deliver } = recorder();
		const manual = consumer(deliver, { cursors: memoryCursors() });
		await manual.start();
		await write('a@example.com', { tier: 'c' });
		await until(clock, () => delivered.length === 1);
		expect(await engine.getCursor('wf1:node1')).toBeUndefined();
	});
});
