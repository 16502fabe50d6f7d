import { ValidationError } from '../../../lib/errors';
import { normalizeTimelineEvents, sameTimelineEvent } from '../../../lib/profiles/timelineEvents';

describe('normalizeTimelineEvents', () => {
	const now = '2026-01-02T03:04:05.000Z';

	it('gives an event without id a UUID and without date the current date', () => {
		const [event] = normalizeTimelineEvents([{ eventType: 'order' }], now);
		expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(event).toMatchObject({ eventType: 'order', date: now, data: {} });
	});

	it('normalises dates to UTC ISO 8601 and copies data through JSON', () => {
		const [event] = normalizeTimelineEvents(
			[{ id: 'e1', eventType: 'order', date: '2025-06-01T12:00:00+02:00', data: { total: 5, skip: undefined } }],
			now,
		);
		expect(event).toEqual({ id: 'e1', eventType: 'order', date: '2025-06-01T10:00:00.000Z', data: { total: 5 } });
	});

	it('keeps the later of two events with the same id', () => {
		const events = normalizeTimelineEvents(
			[
				{ id: 'a', eventType: 'x', data: { v: 1 } },
				{ id: 'b', eventType: 'x' },
				{ id: 'a', eventType: 'x', data: { v: 2 } },
			],
			now,
		);
		expect(events.map((e) => [e.id, e.data])).toEqual([
			['b', {}],
			['a', { v: 2 }],
		]);
	});

	it('lists every problem', () => {
		expect.assertions(2);
		try {
			normalizeTimelineEvents(
				[{ eventType: '' }, { eventType: 'x', date: 'yesterday-ish' }, { eventType: 'x', data: [] as unknown as Record<string, unknown> }],
				now,
			);
		} catch (error) {
			expect(error).toBeInstanceOf(ValidationError);
			expect((error as ValidationError).issues.map((i) => i.target)).toEqual([
				'timelineEvents[0]',
				'timelineEvents[1]',
				'timelineEvents[2]',
			]);
		}
	});

	it('tells an identical event from a changed one', () => {
		const a = { id: '1', eventType: 't', date: now, data: { x: [1, { y: 2 }] } };
		expect(sameTimelineEvent(a, structuredClone(a))).toBe(true);
		expect(sameTimelineEvent(a, { ...a, data: { x: [1, { y: 3 }] } })).toBe(false);
	});
});
