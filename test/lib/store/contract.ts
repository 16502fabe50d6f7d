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
