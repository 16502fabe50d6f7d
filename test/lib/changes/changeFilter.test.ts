import { compileChangeFilter, splitList } from '../../../lib/changes/changeFilter';
import { ConfigurationError } from '../../../lib/errors';
import type { ChangeFeedEntry } from '../../../lib/store/ProfileStore';

function entry(overrides: Partial<ChangeFeedEntry> = {}): ChangeFeedEntry {
	return {
		seq: 1,
		profileId: 'p1',
		domainGroup: 'DEFAULT',
		state: 'MODIFIED',
		source: 'trigger:wf1',
		changes: {},
		events: [],
		segmentsEntered: [],
		segmentsLeft: [],
		committedAt: '2026-01-01T00:00:00.000Z',
		...overrides,
	};
}

const tierChange = { tier: { mode: 'set', before: ['silver'], after: ['gold'] } };

describe('compileChangeFilter', () => {
	test('property change: a listed property whose values differ', () => {
		const matches = compileChangeFilter({ triggerOn: ['propertyChange'], properties: ['email', 'tier'] });
		expect(matches(entry({ changes: tierChange }))).toBe(true);
		expect(matches(entry({ changes: { nickname: { mode: 'set', before: [], after: ['Bo'] } } }))).toBe(false);
		// A change whose values are the same after all (the feed only holds real changes, but the
		// filter compares before and after anyway).
		expect(matches(entry({ changes: { tier: { mode: 'set', before: ['gold'], after: ['gold'] } } }))).toBe(false);
		expect(matches(entry({ state: 'CREATED', changes: { email: { mode: 'set', before: [], after: ['a@b.c'] } } }))).toBe(true);
	});

	test('property change without properties: any property', () => {
		const matches = compileChangeFilter({ triggerOn: ['propertyChange'] });
		expect(matches(entry({ changes: { nickname: { mode: 'set', before: [], after: ['Bo'] } } }))).toBe(true);
		expect(matches(entry({ events: [{ id: 'e', eventType: 'order', date: '2026-01-01T00:00:00Z', data: {} }] }))).toBe(false);
	});

	test('events by type, segments entered and left, any of the selected kinds', () => {
		const order = { id: 'e1', eventType: 'order', date: '2026-01-01T00:00:00Z', data: {} };
		const view = { id: 'e2', eventType: 'page_view', date: '2026-01-01T00:00:00Z', data: {} };
		const matches = compileChangeFilter({
			triggerOn: ['event', 'segmentEntered', 'segmentLeft'],
			eventTypes: ['order'],
			segmentsEntered: ['customers'],
			segmentsLeft: [],
		});
		expect(matches(entry({ events: [view, order] }))).toBe(true);
		expect(matches(entry({ events: [view] }))).toBe(false);
		expect(matches(entry({ segmentsEntered: ['customers'] }))).toBe(true);
		expect(matches(entry({ segmentsEntered: ['prospects'] }))).toBe(false);
		expect(matches(entry({ segmentsLeft: ['anything'] }))).toBe(true);
		expect(matches(entry({ changes: tierChange }))).toBe(false);
	});

	test('domain groups and ignored sources narrow every kind', () => {
		const matches = compileChangeFilter({
			triggerOn: ['propertyChange'],
			domainGroups: ['EU'],
			ignoreSources: ['profileWebhook', 'trigger:wf9'],
		});
		expect(matches(entry({ domainGroup: 'EU', changes: tierChange }))).toBe(true);
		expect(matches(entry({ domainGroup: 'DEFAULT', changes: tierChange }))).toBe(false);
		expect(matches(entry({ domainGroup: 'EU', source: 'profileWebhook', changes: tierChange }))).toBe(false);
		expect(matches(entry({ domainGroup: 'EU', source: 'trigger:wf9', changes: tierChange }))).toBe(false);
		expect(matches(entry({ domainGroup: 'EU', source: 'trigger:wf1', changes: tierChange }))).toBe(true);
		// A prefix is a whole writer name, not any string start.
		expect(matches(entry({ domainGroup: 'EU', source: 'profileWebhookX', changes: tierChange }))).toBe(true);
	});

	test('no kind selected, or an unknown one, is a configuration error that says what to choose', () => {
		expect(() => compileChangeFilter({ triggerOn: [] })).toThrow(ConfigurationError);
		expect(() => compileChangeFilter({ triggerOn: [] })).toThrow(/select at least one kind of change/);
		expect(() => compileChangeFilter({ triggerOn: ['propertyChanged' as never] })).toThrow(/"propertyChanged" is not one of/);
	});

	test('splitList trims, drops empty entries and duplicates', () => {
		expect(splitList(' email, tier,,email , ')).toEqual(['email', 'tier']);
		expect(splitList(undefined)).toEqual([]);
	});
});
