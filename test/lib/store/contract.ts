/**
 * The ProfileEngine contract as a reusable Jest suite: every backend (sqlite.test.ts today, a
 * PostgreSQL store later) calls describeProfileStoreContract with a factory for fresh, empty stores.
 */
import { ProfileWebhookError, ValidationError } from '../../../lib/errors';
import {
	MAX_TIMELINE_EVENTS,
	type TimelineEventInput,
} from '../../../lib/profiles/types';
import type { ApplyRequest, ProfileEngine } from '../../../lib/profiles/engine';

export interface StoreHarness {
	/** A fresh, empty store. */
	store: ProfileEngine;
	/** Opens another, independent instance on the same data (as another process would). */
	reopen(): Promise<ProfileEngine>;
	/** Closes every instance opened and removes the data. */
	cleanup(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An event dated `n` minutes after a fixed start, so dates order as numbers do. */
function eventAt(n: number, extra: Partial<TimelineEventInput> = {}): TimelineEventInput {
	return {
		id: `e${n}`,
		eventType: 'pageview',
		date: new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString(),
		data: { n },
		...extra,
	};
}

const byEmail = (email: string, extra: Partial<ApplyRequest> = {}): ApplyRequest => ({
	identifier: { property: 'email', value: email },
	...extra,
});

export function describeProfileStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
	describe(`ProfileStore contract: ${name}`, () => {
		let harness: StoreHarness;
		let store: ProfileEngine;

		beforeEach(async () => {
			harness = await makeStore();
			store = harness.store;
		});

		afterEach(async () => {
			await harness.cleanup();
		});

		/** Everything a caller can read about a profile, as one string to compare byte for byte. */
		async function snapshot(id: string): Promise<string> {
			return JSON.stringify(await store.get(id, { timeline: true }));
		}

		describe('profiles', () => {
			it('creates a profile with defaults and reads it back', async () => {
				const created = await store.create({ properties: { email: ['ann@example.com'] } });
				expect(created.id).toMatch(UUID);
				expect(created).toMatchObject({
					domainGroup: 'DEFAULT',
					legislation: 'NONE',
					properties: { email: ['ann@example.com'] },
					timeline: [],
				});
				expect(created.createdAt).toMatch(ISO);
				expect(created.updatedAt).toBe(created.createdAt);
				const read = await store.get(created.id);
				expect(read).toEqual({ ...created, timeline: undefined });
				expect(read).not.toHaveProperty('timeline');
				expect(await store.get(created.id, { timeline: true })).toEqual(created);
			});

			it('returns undefined for an unknown id', async () => {
				expect(await store.get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
			});

			it('refuses a second profile with the same id and invalid property values', async () => {
				const { id } = await store.create({ id: 'fixed-id' });
				expect(id).toBe('fixed-id');
				await expect(store.create({ id: 'fixed-id' })).rejects.toThrow(ValidationError);
				await expect(
					store.create({ properties: { bad: [{}] as unknown as string[] } }),
				).rejects.toThrow(ValidationError);
			});
		});

		describe('identifier matching', () => {
			it('matches on any property, by string form', async () => {
				const { id } = await store.create({
					properties: { email: ['ann@example.com'], loyalty_id: [1234], tags: ['x', 'y'] },
				});
				for (const [property, value] of [
					['email', 'ann@example.com'],
					['loyalty_id', '1234'],
					['loyalty_id', 1234],
					['tags', 'y'],
				] as const) {
					const match = await store.findByIdentifier('DEFAULT', property, value);
					expect(match).toEqual({ profile: expect.objectContaining({ id }), ambiguous: false });
				}
				expect((await store.findByIdentifier('DEFAULT', 'email', 'bob@example.com')).profile).toBeUndefined();
				expect((await store.findByIdentifier('DEFAULT', 'tags', 'ann@example.com')).profile).toBeUndefined();
			});

			it('keeps the index in step with every write', async () => {
				const { id } = await store.create({ properties: { email: ['old@example.com'] } });
				const find = async (value: string) =>
					(await store.findByIdentifier('DEFAULT', 'email', value)).profile?.id;

				await store.applyToProfile(id, [{ property: 'email', mode: 'set', values: ['new@example.com'] }]);
				expect(await find('old@example.com')).toBeUndefined();
				expect(await find('new@example.com')).toBe(id);

				await store.applyToProfile(id, [{ property: 'email', mode: 'add', values: ['alt@example.com'] }]);
				expect(await find('new@example.com')).toBe(id);
				expect(await find('alt@example.com')).toBe(id);

				await store.applyToProfile(id, [{ property: 'email', mode: 'set', values: [] }]);
				expect(await find('new@example.com')).toBeUndefined();
				expect(await find('alt@example.com')).toBeUndefined();

				const result = await store.applyByIdentifier({
					identifier: { property: 'crm', value: 'C-1' },
					create: true,
					imports: [{ property: 'visits', mode: 'sum', values: [3] }],
				});
				expect((await store.findByIdentifier('DEFAULT', 'visits', 3)).profile?.id).toBe(result.profile?.id);
			});

			it('keeps domain groups apart', async () => {
				const a = await store.create({ domainGroup: 'A', properties: { email: ['ann@example.com'] } });
				const b = await store.create({ domainGroup: 'B', properties: { email: ['ann@example.com'] } });
				expect((await store.findByIdentifier('A', 'email', 'ann@example.com')).profile?.id).toBe(a.id);
				expect((await store.findByIdentifier('B', 'email', 'ann@example.com')).profile?.id).toBe(b.id);
				expect(await store.findByIdentifier('DEFAULT', 'email', 'ann@example.com')).toEqual({
					profile: undefined,
					ambiguous: false,
				});
				const result = await store.applyByIdentifier(byEmail('ann@example.com', { domainGroup: 'B' }));
				expect(result).toMatchObject({ state: 'UNCHANGED', ambiguous: false, profile: { id: b.id } });
			});

			it('several matches: the earliest created wins and the match is ambiguous', async () => {
				const first = await store.create({ properties: { email: ['shared@example.com'], n: [1] } });
				const second = await store.create({ properties: { email: ['shared@example.com'], n: [2] } });
				const third = await store.create({ properties: { email: ['shared@example.com'], n: [3] } });

				const match = await store.findByIdentifier('DEFAULT', 'email', 'shared@example.com');
				expect(match).toEqual({ profile: expect.objectContaining({ id: first.id }), ambiguous: true });

				const result = await store.applyByIdentifier(
					byEmail('shared@example.com', { imports: [{ property: 'n', mode: 'sum', values: [10] }] }),
				);
				expect(result).toMatchObject({ state: 'MODIFIED', ambiguous: true, profile: { id: first.id } });
				expect((await store.get(first.id))?.properties.n).toEqual([11]);
				expect((await store.get(second.id))?.properties.n).toEqual([2]);

				const all = await store.findAllByIdentifier('DEFAULT', 'email', 'shared@example.com', 10);
				expect(all.map((p) => p.id)).toEqual([first.id, second.id, third.id]);
				expect(await store.findAllByIdentifier('DEFAULT', 'email', 'shared@example.com', 2)).toHaveLength(2);
				expect(await store.findAllByIdentifier('DEFAULT', 'email', 'nobody@example.com', 10)).toEqual([]);
			});
		});

		describe('applyByIdentifier', () => {
			it('creates a profile when none matches and creation is asked', async () => {
				const result = await store.applyByIdentifier(
					byEmail('new@example.com', {
						create: true,
						legislation: 'GDPR',
						imports: [{ property: 'visits', mode: 'sum', values: [1] }],
						events: [{ eventType: 'signup', data: { source: 'form' } }],
						timeline: true,
					}),
				);
				expect(result.state).toBe('CREATED');
				expect(result.ambiguous).toBe(false);
				expect(result.profile).toMatchObject({
					legislation: 'GDPR',
					domainGroup: 'DEFAULT',
					properties: { email: ['new@example.com'], visits: [1] },
				});
				expect(result.changes).toEqual({
					email: { mode: 'set', before: [], after: ['new@example.com'] },
					visits: { mode: 'sum', before: [], after: [1] },
				});
				expect(result.events).toHaveLength(1);
				expect(result.events[0]).toMatchObject({ eventType: 'signup', data: { source: 'form' } });
				expect(result.events[0].id).toMatch(UUID);
				expect(result.events[0].date).toMatch(ISO);
				expect(result.profile?.timeline).toEqual(result.events);

				const again = await store.applyByIdentifier(
					byEmail('new@example.com', { create: true, imports: [{ property: 'visits', mode: 'sum', values: [1] }] }),
				);
				expect(again).toMatchObject({ state: 'MODIFIED', profile: { id: result.profile?.id } });
				expect(again.changes).toEqual({ visits: { mode: 'sum', before: [1], after: [2] } });
				expect(await store.findAllByIdentifier('DEFAULT', 'email', 'new@example.com', 10)).toHaveLength(1);
			});

			it('creates with legislation NONE unless the request names one', async () => {
				const result = await store.applyByIdentifier(byEmail('x@example.com', { create: true }));
				expect(result.profile?.legislation).toBe('NONE');
			});

			it('NOTFOUND writes nothing', async () => {
				const result = await store.applyByIdentifier(
					byEmail('ghost@example.com', {
						imports: [{ property: 'visits', mode: 'sum', values: [1] }],
						events: [{ eventType: 'x' }],
					}),
				);
				expect(result).toEqual({ state: 'NOTFOUND', changes: {}, events: [], ambiguous: false, segmentsEntered: [], segmentsLeft: [] });
				expect(await store.findByIdentifier('DEFAULT', 'email', 'ghost@example.com')).toEqual({
					profile: undefined,
					ambiguous: false,
				});
				expect(await store.findAllByIdentifier('DEFAULT', 'visits', 1, 10)).toEqual([]);
			});

			it('UNCHANGED when nothing changes, MODIFIED for properties, events or legislation', async () => {
				const created = await store.create({ properties: { email: ['ann@example.com'], tags: ['a'] } });
				const unchanged = await store.applyByIdentifier(
					byEmail('ann@example.com', {
						imports: [
							{ property: 'tags', mode: 'add', values: ['a'] },
							{ property: 'email', mode: 'setIfEmpty', values: ['other@example.com'] },
						],
					}),
				);
				expect(unchanged).toMatchObject({ state: 'UNCHANGED', changes: {}, events: [] });
				expect((await store.get(created.id))?.updatedAt).toBe(created.updatedAt);

				const byEvent = await store.applyByIdentifier(byEmail('ann@example.com', { events: [eventAt(1)] }));
				expect(byEvent.state).toBe('MODIFIED');
				expect(byEvent.changes).toEqual({});
				expect(byEvent.events.map((e) => e.id)).toEqual(['e1']);

				const byLegislation = await store.applyByIdentifier(byEmail('ann@example.com', { legislation: 'GDPR' }));
				expect(byLegislation).toMatchObject({ state: 'MODIFIED', profile: { legislation: 'GDPR' } });
				const sameLegislation = await store.applyByIdentifier(byEmail('ann@example.com', { legislation: 'GDPR' }));
				expect(sameLegislation.state).toBe('UNCHANGED');

				const byProperty = await store.applyByIdentifier(
					byEmail('ann@example.com', { imports: [{ property: 'tags', mode: 'add', values: ['b'] }] }),
				);
				expect(byProperty.state).toBe('MODIFIED');
				expect(byProperty.profile?.properties.tags).toEqual(['a', 'b']);
				expect(byProperty.profile!.updatedAt >= created.updatedAt).toBe(true);
				expect(await store.get(created.id)).toEqual(byProperty.profile);
			});

			it('CONSENT_MISMATCH writes nothing', async () => {
				const created = await store.create({
					legislation: 'GDPR',
					properties: { email: ['ann@example.com'], consented_objectives: ['marketing'] },
				});
				const before = await snapshot(created.id);
				const result = await store.applyByIdentifier(
					byEmail('ann@example.com', {
						objectives: ['tracking'],
						imports: [{ property: 'visits', mode: 'sum', values: [1] }],
						events: [{ eventType: 'x' }],
					}),
				);
				expect(result).toMatchObject({
					state: 'CONSENT_MISMATCH',
					changes: {},
					events: [],
					profile: { id: created.id },
				});
				expect(result.reason).toContain('tracking');
				expect(await snapshot(created.id)).toBe(before);
			});

			it('CONSENT_MISMATCH on creation creates nothing', async () => {
				const result = await store.applyByIdentifier(
					byEmail('new@example.com', { create: true, legislation: 'GDPR', objectives: ['tracking'] }),
				);
				expect(result).toMatchObject({ state: 'CONSENT_MISMATCH', changes: {}, events: [], ambiguous: false });
				expect(result.profile).toBeUndefined();
				expect((await store.findByIdentifier('DEFAULT', 'email', 'new@example.com')).profile).toBeUndefined();
			});

			it('consent written by the same request counts', async () => {
				await store.create({ legislation: 'GDPR', properties: { email: ['ann@example.com'], visits: [1] } });
				const result = await store.applyByIdentifier(
					byEmail('ann@example.com', {
						objectives: ['tracking'],
						imports: [
							{ property: 'consented_objectives', mode: 'add', values: ['tracking'] },
							{ property: 'visits', mode: 'sum', values: [1] },
						],
					}),
				);
				expect(result.state).toBe('MODIFIED');
				expect(result.profile?.properties.visits).toEqual([2]);
			});

			it('a rejected change set leaves the profile byte for byte as it was', async () => {
				const created = await store.create({
					properties: { email: ['ann@example.com'], visits: [3], tags: ['a'] },
					events: [eventAt(1)],
				});
				const before = await snapshot(created.id);
				const attempt = store.applyByIdentifier(
					byEmail('ann@example.com', {
						legislation: 'GDPR',
						imports: [
							{ property: 'tags', mode: 'add', values: ['b'] },
							{ property: 'visits', mode: 'sum', values: ['lots'] },
							{ property: 'score', mode: 'sum', values: [true] },
						],
						events: [eventAt(2)],
					}),
				);
				await expect(attempt).rejects.toThrow(ValidationError);
				await attempt.catch((error: ValidationError) => {
					expect(error.issues.map((i) => i.target)).toEqual(['visits', 'score']);
					expect(error.message).toContain('lots');
				});
				expect(await snapshot(created.id)).toBe(before);
				expect((await store.findByIdentifier('DEFAULT', 'tags', 'b')).profile).toBeUndefined();
			});

			it('a rejected change set creates nothing', async () => {
				await expect(
					store.applyByIdentifier(
						byEmail('new@example.com', {
							create: true,
							imports: [{ property: 'visits', mode: 'sum', values: ['x'] }],
						}),
					),
				).rejects.toThrow(ValidationError);
				expect((await store.findByIdentifier('DEFAULT', 'email', 'new@example.com')).profile).toBeUndefined();
			});

			it('refuses a request without an identifier', async () => {
				await expect(
					store.applyByIdentifier({ identifier: { property: '', value: 'x' }, create: true }),
				).rejects.toMatchObject({ status: 400, code: 'MISSING_IDENTIFIER' });
				await expect(
					store.applyByIdentifier({ identifier: { property: 'email', value: { a: 1 } }, create: true }),
				).rejects.toThrow(ProfileWebhookError);
			});

			it('concurrent writes to one new profile: one profile, no lost update', async () => {
				const writes = 50;
				const results = await Promise.all(
					Array.from({ length: writes }, (_, i) =>
						store.applyByIdentifier(
							byEmail('busy@example.com', {
								create: true,
								imports: [
									{ property: 'visits', mode: 'sum', values: [1] },
									{ property: 'tags', mode: 'add', values: [`t${i}`] },
								],
							}),
						),
					),
				);
				expect(results.filter((r) => r.state === 'CREATED')).toHaveLength(1);
				const all = await store.findAllByIdentifier('DEFAULT', 'email', 'busy@example.com', 10);
				expect(all).toHaveLength(1);
				expect(all[0].properties.visits).toEqual([writes]);
				expect(new Set(all[0].properties.tags)).toEqual(new Set(Array.from({ length: writes }, (_, i) => `t${i}`)));
			});
		});

		describe('applyToProfile', () => {
			it('applies by id and reports like applyByIdentifier', async () => {
				const { id } = await store.create({ properties: { visits: [1] } });
				const result = await store.applyToProfile(
					id,
					[{ property: 'visits', mode: 'sum', values: ['2'] }],
					[{ eventType: 'sent' }],
				);
				expect(result).toMatchObject({
					state: 'MODIFIED',
					ambiguous: false,
					changes: { visits: { mode: 'sum', before: [1], after: [3] } },
					profile: { id, properties: { visits: [3] } },
				});
				expect(result.events).toHaveLength(1);
				expect((await store.applyToProfile(id, [])).state).toBe('UNCHANGED');
			});

			it('NOTFOUND for an unknown id', async () => {
				expect(await store.applyToProfile('no-such-id', [{ property: 'a', mode: 'set', values: ['b'] }])).toEqual({
					state: 'NOTFOUND',
					changes: {},
					events: [],
					ambiguous: false,
					segmentsEntered: [],
					segmentsLeft: [],
				});
				expect(await store.get('no-such-id')).toBeUndefined();
			});
		});

		describe('timeline', () => {
			it(`keeps at most ${MAX_TIMELINE_EVENTS} events, dropping the oldest by date`, async () => {
				const { id } = await store.create({ properties: { email: ['ann@example.com'] } });
				const total = MAX_TIMELINE_EVENTS + 10;
				// Written newest-dated half first, so "oldest" must mean by date, not by writing order.
				const order = [
					...Array.from({ length: total / 2 }, (_, i) => i + total / 2),
					...Array.from({ length: total / 2 }, (_, i) => i),
				];
				for (let i = 0; i < order.length; i += 26) {
					await store.applyToProfile(id, [], order.slice(i, i + 26).map((n) => eventAt(n)));
				}
				const timeline = (await store.get(id, { timeline: true }))?.timeline ?? [];
				expect(timeline).toHaveLength(MAX_TIMELINE_EVENTS);
				expect(timeline.map((e) => e.id)).toEqual(
					Array.from({ length: MAX_TIMELINE_EVENTS }, (_, i) => `e${i + total - MAX_TIMELINE_EVENTS}`),
				);

				// Older than everything kept: dropped at once, nothing changed.
				const tooOld = await store.applyToProfile(id, [], [eventAt(0, { id: 'ancient' })]);
				expect(tooOld).toMatchObject({ state: 'UNCHANGED', events: [] });

				// Newer: kept, and the oldest goes.
				const newer = await store.applyToProfile(id, [], [eventAt(total + 1)]);
				expect(newer.state).toBe('MODIFIED');
				const after = (await store.get(id, { timeline: true }))?.timeline ?? [];
				expect(after).toHaveLength(MAX_TIMELINE_EVENTS);
				expect(after[0].id).toBe(`e${total - MAX_TIMELINE_EVENTS + 1}`);
				expect(after[after.length - 1].id).toBe(`e${total + 1}`);
			});

			it('an event with a known id replaces the stored one; an identical one changes nothing', async () => {
				const { id } = await store.create({ events: [eventAt(1), eventAt(2), eventAt(3)] });
				const replaced = await store.applyToProfile(id, [], [eventAt(2, { eventType: 'order', data: { total: 9 } })]);
				expect(replaced.state).toBe('MODIFIED');
				const timeline = (await store.get(id, { timeline: true }))?.timeline ?? [];
				expect(timeline.map((e) => [e.id, e.eventType, e.data])).toEqual([
					['e1', 'pageview', { n: 1 }],
					['e2', 'order', { total: 9 }],
					['e3', 'pageview', { n: 3 }],
				]);
				const again = await store.applyToProfile(id, [], [eventAt(2, { eventType: 'order', data: { total: 9 } })]);
				expect(again).toMatchObject({ state: 'UNCHANGED', events: [] });

				// A new date moves it to its place in date order.
				await store.applyToProfile(id, [], [eventAt(9, { id: 'e1' })]);
				const moved = (await store.get(id, { timeline: true }))?.timeline ?? [];
				expect(moved.map((e) => e.id)).toEqual(['e2', 'e3', 'e1']);
			});

			it('events of the same date keep the order written; no date means now', async () => {
				const date = '2025-05-05T05:05:05.000Z';
				const started = new Date().toISOString();
				const { id } = await store.create();
				await store.applyToProfile(id, [], [{ id: 'b', eventType: 't', date }]);
				await store.applyToProfile(id, [], [{ id: 'a', eventType: 't', date }, { eventType: 'now' }]);
				const timeline = (await store.get(id, { timeline: true }))?.timeline ?? [];
				expect(timeline.map((e) => e.id).slice(0, 2)).toEqual(['b', 'a']);
				expect(timeline[2].eventType).toBe('now');
				expect(timeline[2].id).toMatch(UUID);
				expect(timeline[2].date >= started).toBe(true);
			});
		});

		describe('erase', () => {
			it('removes the profile, its identifiers, its timeline and its sent snapshots', async () => {
				const result = await store.applyByIdentifier(
					byEmail('gone@example.com', {
						create: true,
						imports: [{ property: 'phone', mode: 'set', values: ['+31 6 1234'] }],
						events: [eventAt(1)],
					}),
				);
				const id = result.profile!.id;
				await store.setSentSnapshot('goal-1', id, { email: ['gone@example.com'] });
				const keep = await store.create({ properties: { email: ['kept@example.com'] } });
				await store.setSentSnapshot('goal-1', keep.id, { email: ['kept@example.com'] });

				expect(await store.erase(id)).toBe(true);
				expect(await store.get(id, { timeline: true })).toBeUndefined();
				expect((await store.findByIdentifier('DEFAULT', 'email', 'gone@example.com')).profile).toBeUndefined();
				expect((await store.findByIdentifier('DEFAULT', 'phone', '+31 6 1234')).profile).toBeUndefined();
				expect(await store.getSentSnapshot('goal-1', id)).toBeUndefined();
				expect(await store.applyToProfile(id, [], [eventAt(2)])).toMatchObject({ state: 'NOTFOUND' });
				expect(await store.erase(id)).toBe(false);

				expect(await store.getSentSnapshot('goal-1', keep.id)).toEqual({ email: ['kept@example.com'] });
				expect((await store.findByIdentifier('DEFAULT', 'email', 'kept@example.com')).profile?.id).toBe(keep.id);

				// The same identifier later makes a new, empty profile.
				const reborn = await store.applyByIdentifier(byEmail('gone@example.com', { create: true, timeline: true }));
				expect(reborn.state).toBe('CREATED');
				expect(reborn.profile?.id).not.toBe(id);
				expect(reborn.profile?.timeline).toEqual([]);
			});
		});

		describe('sent snapshots', () => {
			it('keeps what each goal last sent for each profile', async () => {
				const { id } = await store.create();
				expect(await store.getSentSnapshot('goal-1', id)).toBeUndefined();
				await store.setSentSnapshot('goal-1', id, { email: ['a@example.com'], visits: [1] });
				await store.setSentSnapshot('goal-2', id, { email: ['b@example.com'] });
				expect(await store.getSentSnapshot('goal-1', id)).toEqual({ email: ['a@example.com'], visits: [1] });
				await store.setSentSnapshot('goal-1', id, { email: ['c@example.com'] });
				expect(await store.getSentSnapshot('goal-1', id)).toEqual({ email: ['c@example.com'] });
				expect(await store.getSentSnapshot('goal-2', id)).toEqual({ email: ['b@example.com'] });
				expect(await store.getSentSnapshot('goal-3', id)).toBeUndefined();
			});
		});

		describe('batches: one transaction, per-record results', () => {
			it('a failing record is rolled back alone; the others are written', async () => {
				await store.create({ properties: { email: ['b@example.com'], visits: ['many'] } });
				const batch = await store.applyBatch({
					create: true,
					records: [
						{ identifier: { property: 'email', value: 'a@example.com' }, imports: [{ property: 'visits', mode: 'sum', values: [1] }] },
						{ identifier: { property: 'email', value: 'b@example.com' }, imports: [{ property: 'visits', mode: 'sum', values: [1] }, { property: 'tier', mode: 'set', values: ['gold'] }] },
						{ error: new ProfileWebhookError(400, 'MISSING_IDENTIFIER', 'record 2 has no identifier') },
						{ identifier: { property: 'email', value: 'c@example.com' }, imports: [{ property: 'visits', mode: 'sum', values: [2] }] },
					],
				});
				if (batch.replayed) throw new Error('not a replay');
				expect(batch.outcomes.map((o) => (o.ok ? o.result.state : o.error.code))).toEqual([
					'CREATED',
					'VALIDATION_FAILED',
					'MISSING_IDENTIFIER',
					'CREATED',
				]);
				expect((await store.findByIdentifier('DEFAULT', 'email', 'a@example.com')).profile?.properties.visits).toEqual([1]);
				expect((await store.findByIdentifier('DEFAULT', 'email', 'b@example.com')).profile?.properties).toEqual({ email: ['b@example.com'], visits: ['many'] });
				expect((await store.findByIdentifier('DEFAULT', 'email', 'c@example.com')).profile?.properties.visits).toEqual([2]);
				const feed = await store.readChanges(0, 100);
				// b's creation before the batch, then a and c: nothing of b's failed record.
				expect(feed.map((e) => e.changes.email?.after[0])).toEqual(['b@example.com', 'a@example.com', 'c@example.com']);
			});

			it('an idempotency key answers the first answer again and writes nothing', async () => {
				const request = {
					create: true,
					records: [{ identifier: { property: 'email', value: 'once@example.com' }, imports: [{ property: 'visits', mode: 'sum' as const, values: [5] }] }],
					idempotency: { scope: 'webhook-1', key: 'evt_1', windowMs: 60_000 },
				};
				const first = await store.applyBatch(request);
				const second = await store.applyBatch(request);
				const third = await store.applyBatch(request);
				expect(first.replayed).toBe(false);
				const id = (await store.findByIdentifier('DEFAULT', 'email', 'once@example.com')).profile?.id;
				expect(second).toEqual({ replayed: true, answers: [{ state: 'CREATED', profileId: id }] });
				expect(third).toEqual(second);
				expect((await store.get(id!))?.properties.visits).toEqual([5]);
				expect(await store.readChanges(0, 100)).toHaveLength(1);
				// Another scope or key is another delivery.
				await store.applyBatch({ ...request, idempotency: { ...request.idempotency, key: 'evt_2' } });
				expect((await store.get(id!))?.properties.visits).toEqual([10]);
			});
		});

		describe('change feed', () => {
			it('appends every committed change set in order, with before and after, events and source', async () => {
				const created = await store.applyByIdentifier(byEmail('feed@example.com', { create: true, source: 'test:a' }));
				await store.applyByIdentifier(byEmail('feed@example.com', { imports: [{ property: 'visits', mode: 'sum', values: [2] }], events: [eventAt(1)], source: 'test:b' }));
				await store.applyByIdentifier(byEmail('feed@example.com', { imports: [{ property: 'visits', mode: 'sum', values: [0] }] })); // UNCHANGED: no entry
				await store.applyByIdentifier(byEmail('feed@example.com', { legislation: 'GDPR', source: 'test:c' }));
				const feed = await store.readChanges(0, 100);
				expect(feed.map((e) => [e.state, e.source])).toEqual([
					['CREATED', 'test:a'],
					['MODIFIED', 'test:b'],
					['MODIFIED', 'test:c'],
				]);
				expect(feed[0].seq).toBeLessThan(feed[1].seq);
				expect(feed[1].seq).toBeLessThan(feed[2].seq);
				expect(feed[1]).toMatchObject({
					profileId: created.profile!.id,
					domainGroup: 'DEFAULT',
					changes: { visits: { mode: 'sum', before: [], after: [2] } },
					events: [expect.objectContaining({ id: 'e1' })],
				});
				expect(feed[2].legislation).toEqual({ before: 'NONE', after: 'GDPR' });
				expect(await store.lastChangeSeq()).toBe(feed[2].seq);
				expect(await store.readChanges(feed[0].seq, 1)).toEqual([feed[1]]);
			});

			it('wakes this process\'s listeners after a write committed feed entries, not after UNCHANGED', async () => {
				let woken = 0;
				const stop = store.onChange(() => woken++);
				await store.applyByIdentifier(byEmail('wake@example.com', { create: true }));
				expect(woken).toBe(1);
				await store.applyByIdentifier(byEmail('wake@example.com'));
				expect(woken).toBe(1);
				stop();
				await store.applyByIdentifier(byEmail('wake@example.com', { imports: [{ property: 'n', mode: 'set', values: [1] }] }));
				expect(woken).toBe(1);
			});

			it('keeps consumer cursors', async () => {
				expect(await store.getCursor('wf/node')).toBeUndefined();
				await store.setCursor('wf/node', 7);
				await store.setCursor('wf/node', 9);
				expect(await store.getCursor('wf/node')).toBe(9);
			});

			it('concurrent writers: entries in seq order, one per committed change, none lost', async () => {
				const other = await harness.reopen();
				const writes = 40;
				await Promise.all(
					Array.from({ length: writes }, (_, i) =>
						(i % 2 ? store : other).applyByIdentifier(
							byEmail(`w${i % 5}@example.com`, { create: true, imports: [{ property: 'n', mode: 'add', values: [i] }] }),
						),
					),
				);
				const feed = await store.readChanges(0, 1000);
				expect(feed).toHaveLength(writes);
				expect(feed.map((e) => e.seq)).toEqual([...feed.map((e) => e.seq)].sort((a, b) => a - b));
				expect(new Set(feed.flatMap((e) => e.changes.n?.after.filter((v) => !e.changes.n.before.includes(v)) ?? [])).size).toBe(writes);
			});
		});

		describe('rules the engine enforces on every store', () => {
			it('sums stay finite and exact within 2^53; beyond that 422 and nothing written', async () => {
				const { id } = await store.create({ properties: { visits: [1e308], big: [Number.MAX_SAFE_INTEGER - 1] } });
				const before = await snapshot(id);
				await expect(store.applyToProfile(id, [{ property: 'visits', mode: 'sum', values: [1e308] }])).rejects.toMatchObject({ status: 422 });
				await expect(store.applyToProfile(id, [{ property: 'big', mode: 'sum', values: [2] }])).rejects.toMatchObject({ status: 422 });
				expect(await snapshot(id)).toBe(before);
				const exact = await store.applyToProfile(id, [{ property: 'big', mode: 'sum', values: [1] }]);
				expect(exact.profile?.properties.big).toEqual([Number.MAX_SAFE_INTEGER]);
			});

			it('legislation is set on creation and tightened, never loosened', async () => {
				const created = await store.applyByIdentifier(byEmail('law@example.com', { create: true, legislation: 'GDPR' }));
				expect(created.profile?.legislation).toBe('GDPR');
				const loosen = await store.applyByIdentifier(byEmail('law@example.com', { legislation: 'NONE' }));
				expect(loosen.state).toBe('UNCHANGED');
				expect((await store.get(created.profile!.id))?.legislation).toBe('GDPR');
				await expect(store.applyByIdentifier(byEmail('law@example.com', { legislation: 'CCPA' }))).rejects.toMatchObject({ status: 400 });
			});

			it('identifiers are scalar, valid Unicode', async () => {
				for (const value of [{ a: 1 }, ['x'], true, '\ud800', '\udc00', '   ']) {
					await expect(store.applyByIdentifier(byEmail('x', { identifier: { property: 'email', value }, create: true }))).rejects.toMatchObject({ status: 400 });
				}
				expect(await store.countProfiles()).toBe(0);
			});

			it('values per property and profile size are limited, with nothing written', async () => {
				const { id } = await store.create({ properties: { email: ['big@example.com'] } });
				const before = await snapshot(id);
				const many = Array.from({ length: 1001 }, (_, i) => `t${i}`);
				await expect(store.applyToProfile(id, [{ property: 'tags', mode: 'add', values: many }])).rejects.toMatchObject({ status: 422 });
				const huge = 'x'.repeat(600_000);
				await store.applyToProfile(id, [{ property: 'a', mode: 'set', values: [huge] }]);
				const attempt = store.applyToProfile(id, [{ property: 'b', mode: 'set', values: [huge] }]);
				await expect(attempt).rejects.toMatchObject({ status: 422, issues: [expect.objectContaining({ target: 'profile' })] });
				expect((await store.get(id))?.properties.b).toBeUndefined();
				expect(before).not.toBe(await snapshot(id));
			});
		});

		describe('segments and search', () => {
			it('membership follows definitions on every write and on re-evaluation', async () => {
				const gold = await store.create({ properties: { email: ['g@example.com'], tier: ['gold'], segments: ['hand-made label'] } });
				const plain = await store.create({ properties: { email: ['p@example.com'], tier: ['silver'] } });
				const progress: number[] = [];
				const done = await store.defineSegment(
					{ name: 'Gold', conditions: { conditions: [{ property: 'tier', operator: 'equals', value: 'gold' }] } },
					(p) => progress.push(p.scanned),
				);
				expect(done).toMatchObject({ scanned: 2, total: 2, entered: 1, left: 0 });
				expect(progress.at(-1)).toBe(2);
				expect((await store.get(gold.id))?.properties.segments).toEqual(['hand-made label', 'Gold']);
				expect((await store.get(plain.id))?.properties.segments).toBeUndefined();

				const upgraded = await store.applyToProfile(plain.id, [{ property: 'tier', mode: 'set', values: ['gold'] }]);
				expect(upgraded.segmentsEntered).toEqual(['Gold']);
				const downgraded = await store.applyToProfile(gold.id, [{ property: 'tier', mode: 'set', values: ['bronze'] }]);
				expect(downgraded.segmentsLeft).toEqual(['Gold']);
				expect(downgraded.profile?.properties.segments).toEqual(['hand-made label']);
				const feed = await store.readChanges(0, 100);
				expect(feed.filter((e) => e.segmentsEntered.includes('Gold')).map((e) => e.profileId)).toEqual([gold.id, plain.id]);

				expect((await store.listSegments()).map((s) => s.name)).toEqual(['All Visitors', 'Gold']);
				expect(await store.deleteSegment('Gold')).toBe(true);
				expect((await store.get(plain.id))?.properties.segments).toBeUndefined();
				await expect(store.defineSegment({ name: 'All Visitors', conditions: { conditions: [] } })).rejects.toMatchObject({ status: 500 });
			});

			it('search pages through matching profiles', async () => {
				for (let i = 0; i < 25; i++) await store.create({ properties: { n: [i], parity: [i % 2 ? 'odd' : 'even'] } });
				const conditions = { conditions: [{ property: 'parity', operator: 'equals' as const, value: 'odd' }, { property: 'n', operator: 'gte' as const, value: 5 }] };
				const first = await store.search({ conditions, limit: 4 });
				expect(first.profiles.map((p) => p.properties.n[0])).toEqual([5, 7, 9, 11]);
				const second = await store.search({ conditions, limit: 4, cursor: first.nextCursor });
				expect(second.profiles.map((p) => p.properties.n[0])).toEqual([13, 15, 17, 19]);
				const last = await store.search({ conditions, limit: 4, cursor: second.nextCursor });
				expect(last.profiles.map((p) => p.properties.n[0])).toEqual([21, 23]);
				expect(last.nextCursor).toBeUndefined();
			});
		});

		describe('consent and export', () => {
			it('records consent and refusal; export holds everything stored about a profile', async () => {
				const { id } = await store.create({ legislation: 'GDPR', properties: { email: ['c@example.com'] }, events: [eventAt(1)] });
				await store.recordConsent(id, { consented: ['marketing', 'analytics'] });
				const changed = await store.recordConsent(id, { refused: ['marketing'] });
				expect(changed.profile?.properties).toMatchObject({ consented_objectives: ['analytics'], refused_objectives: ['marketing'] });
				await store.setSentSnapshot('goal-1', id, { email: ['c@example.com'] });
				const exported = await store.export(id);
				expect(exported?.profile.timeline).toHaveLength(1);
				expect(exported?.sentSnapshots).toEqual([expect.objectContaining({ goalId: 'goal-1' })]);
				expect(exported?.changes.map((c) => c.source)).toEqual(['engine', 'consent', 'consent']);
				expect(await store.erase(id)).toBe(true);
				expect(await store.export(id)).toBeUndefined();
				expect((await store.readChanges(0, 100)).filter((c) => c.profileId === id)).toEqual([]);
			});
		});

		describe('persistence', () => {
			it('another instance sees every write, and the data outlives closing', async () => {
				const created = await store.create({ properties: { email: ['ann@example.com'] }, events: [eventAt(1)] });
				await store.setSentSnapshot('goal', created.id, { email: ['ann@example.com'] });
				const other = await harness.reopen();
				expect(await other.get(created.id, { timeline: true })).toEqual(created);

				await other.applyToProfile(created.id, [{ property: 'visits', mode: 'sum', values: [1] }]);
				expect((await store.get(created.id))?.properties.visits).toEqual([1]);

				const before = await snapshot(created.id);
				await store.close();
				await store.close(); // twice is harmless
				await other.close();
				const reopened = await harness.reopen();
				expect(JSON.stringify(await reopened.get(created.id, { timeline: true }))).toBe(before);
				expect(await reopened.getSentSnapshot('goal', created.id)).toEqual({ email: ['ann@example.com'] });
				expect((await reopened.findByIdentifier('DEFAULT', 'email', 'ann@example.com')).profile?.id).toBe(
					created.id,
				);
			});
		});
	});
}
