/** The Profiles node's upsert values -> the record the trigger would give the engine. */
import { ConfigurationError, ValidationError } from '../../../lib/errors';
import { upsertRecord } from '../../../lib/profiles/upsertRecord';

const base = { identifierProperty: 'email', identifierValue: 'a@b.c', mappings: [], events: [] };

describe('upsertRecord', () => {
	it('turns values into property values as a mapped field would', () => {
		const record = upsertRecord({
			...base,
			mappings: [
				{ property: 'firstname', value: 'Ada', mode: 'set' },
				{ property: 'tags', value: ['a', ['b', null, '']], mode: 'add' },
				{ property: 'visits', value: 2, mode: 'INCREMENT' },
				{ property: 'address', value: { city: 'Rome' }, mode: 'set' },
				{ property: 'nickname', value: '', mode: 'set' },
				{ property: 'middle', value: null, mode: 'set' },
				{ property: 'nope', value: undefined, mode: 'set' },
			],
		});
		expect(record).toEqual({
			identifier: { property: 'email', value: 'a@b.c' },
			imports: [
				{ property: 'firstname', mode: 'set', values: ['Ada'] },
				{ property: 'tags', mode: 'add', values: ['a', 'b'] },
				{ property: 'visits', mode: 'sum', values: [2] },
				{ property: 'address', mode: 'set', values: ['{"city":"Rome"}'] },
			],
			events: [],
		});
	});

	it('reads events: dates as the trigger does, ids as text, data as a JSON object', () => {
		expect(
			upsertRecord({
				...base,
				events: [
					{ eventType: ' order ', date: '1700000000', id: 42, data: '{"total": 3}' },
					{ eventType: 'visit', date: '', id: '', data: { page: '/' } },
					{ eventType: 'ms', date: 1_700_000_000_000 },
				],
			}).events,
		).toEqual([
			{ eventType: 'order', date: '2023-11-14T22:13:20.000Z', id: '42', data: { total: 3 } },
			{ eventType: 'visit', data: { page: '/' } },
			{ eventType: 'ms', date: '2023-11-14T22:13:20.000Z', data: {} },
		]);
	});

	it('lists configuration problems in one ConfigurationError', () => {
		expect(() =>
			upsertRecord({
				...base,
				identifierProperty: ' ',
				mappings: [{ property: '', value: 1, mode: 'set' }, { property: 'a', value: 1, mode: 'replace' }],
				events: [{ eventType: '' }],
			}),
		).toThrow(
			new ConfigurationError([
				{ target: 'Identifier Property', message: 'must not be empty' },
				{ target: 'Property 1', message: 'the property name is empty' },
				{ target: 'Property 2: mode', message: 'unknown import mode "replace"; use set, setIfEmpty, add or sum (INCREMENT is an alias of sum)' },
				{ target: 'Timeline Event 1', message: 'the event type is empty' },
			]),
		);
	});

	it('refuses values that are not what they claim with a ValidationError (422)', () => {
		let error: unknown;
		try {
			upsertRecord({
				...base,
				events: [
					{ eventType: 'a', date: 'yesterday' },
					{ eventType: 'b', data: '{not json' },
					{ eventType: 'c', data: '[1, 2]' },
				],
			});
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ValidationError);
		expect((error as ValidationError).status).toBe(422);
		expect((error as ValidationError).issues).toEqual([
			{ target: 'Timeline Event 1', message: 'the date "yesterday" is not a date' },
			{ target: 'Timeline Event 2', message: 'the data is not JSON' },
			{ target: 'Timeline Event 3', message: 'the data must be a JSON object' },
		]);
	});
});
