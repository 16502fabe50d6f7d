import { ConfigurationError } from '../../../lib/errors';
import {
	checkConsent,
	checkEvent,
	checkPropertyChange,
	checkSegments,
	compileFilters,
	snapshotFor,
} from '../../../lib/outbound/filters';
import type { FilterProfile, TriggerOn } from '../../../lib/outbound/filters';
import type { ProfileProperties } from '../../../lib/profiles/types';

function profile(properties: ProfileProperties, legislation = 'NONE'): FilterProfile {
	return { legislation, properties };
}

describe('checkSegments', () => {
	const member = profile({ segments: ['seg-1', 'Newsletter'] });

	it('passes everyone when no segment is selected', () => {
		expect(checkSegments(profile({}), [])).toEqual({ send: true });
		expect(checkSegments(profile({}), ['', '  '])).toEqual({ send: true });
	});

	it('passes a profile in at least one selected segment, by id or name', () => {
		expect(checkSegments(member, ['other', 'seg-1'])).toEqual({ send: true });
		expect(checkSegments(member, [' Newsletter '])).toEqual({ send: true });
	});

	it('skips a profile in none of them, saying which', () => {
		expect(checkSegments(member, ['VIP', 'newsletter'])).toEqual({
			send: false,
			code: 'NOT_IN_SEGMENT',
			reason: 'The profile is in none of the selected segments ("VIP", "newsletter").',
		});
		expect(checkSegments(profile({}), ['VIP'])).toMatchObject({ send: false, code: 'NOT_IN_SEGMENT' });
	});
});

describe('checkConsent', () => {
	it('passes everyone when no objective is selected', () => {
		expect(checkConsent(profile({ refused_objectives: ['marketing'] }, 'GDPR'), [])).toEqual({ send: true });
	});

	describe('GDPR: explicit consent needed', () => {
		it('passes when the profile consented to one of the objectives', () => {
			expect(checkConsent(profile({ consented_objectives: ['analytics'] }, 'GDPR'), ['marketing', 'analytics'])).toEqual({
				send: true,
			});
			expect(checkConsent(profile({ consented_objectives: ['marketing'] }, 'gdpr'), ['marketing'])).toEqual({ send: true });
		});

		it('skips without consent, even without any refusal', () => {
			expect(checkConsent(profile({}, 'GDPR'), ['marketing'])).toEqual({
				send: false,
				code: 'NO_CONSENT',
				reason: 'The profile falls under GDPR and has not consented to any of the objectives "marketing".',
			});
			expect(checkConsent(profile({ consented_objectives: ['other'] }, 'GDPR'), ['marketing'])).toMatchObject({
				send: false,
				code: 'NO_CONSENT',
			});
		});

		it('does not count an objective that is both consented and refused', () => {
			const both = profile({ consented_objectives: ['marketing'], refused_objectives: ['marketing'] }, 'GDPR');
			expect(checkConsent(both, ['marketing'])).toMatchObject({ send: false, code: 'NO_CONSENT' });
		});

		it('treats a legislation it does not know as the strictest (never looser than GDPR)', () => {
			const uk = profile({}, 'UK_GDPR');
			expect(checkConsent(uk, ['marketing'])).toMatchObject({ send: false, code: 'NO_CONSENT' });
		});
	});

	describe('legislation NONE: unless every selected objective was refused', () => {
		it('passes without any consent recorded', () => {
			expect(checkConsent(profile({}, 'NONE'), ['marketing'])).toEqual({ send: true });
		});

		it('skips only when the profile refused every selected objective (DESIGN 2.1)', () => {
			const refused = profile({ refused_objectives: ['marketing'] }, 'NONE');
			expect(checkConsent(refused, ['analytics', 'marketing'])).toEqual({ send: true });
			expect(checkConsent(refused, ['marketing'])).toEqual({
				send: false,
				code: 'NO_CONSENT',
				reason: 'The profile refused every one of the objectives "marketing".',
			});
		});
	});
});

describe('checkPropertyChange', () => {
	const current = profile({ email: ['a@b.c'], name: ['Ann'], score: [3] });

	describe('against what this node last sent', () => {
		it('never sent: changed when the profile has a value for a trigger property', () => {
			expect(checkPropertyChange(current, ['email'], {})).toEqual({ send: true });
			expect(checkPropertyChange(profile({ email: [] }), ['email'], {})).toEqual({
				send: false,
				code: 'NO_CHANGE',
				reason: 'The profile has no value for any of the trigger properties ("email").',
			});
		});

		it('skips when the trigger properties equal the snapshot', () => {
			expect(checkPropertyChange(current, ['email', 'name'], { lastSent: { email: ['a@b.c'], name: ['Ann'] } })).toEqual({
				send: false,
				code: 'NO_CHANGE',
				reason: 'None of the trigger properties ("email", "name") changed since this node last sent for this profile.',
			});
		});

		it('ignores changes of other properties', () => {
			expect(checkPropertyChange(current, ['email'], { lastSent: { email: ['a@b.c'], score: [1] } })).toMatchObject({
				send: false,
			});
		});

		it.each([
			['a value changed', { email: ['old@b.c'] }],
			['a value was added', { email: [] }],
			['the property was absent', {}],
			['the order changed', { email: ['a@b.c', 'x'] }],
			['a number became a string', { email: ['a@b.c'], score: ['3'] }],
		])('sends when %s', (_label, lastSent: ProfileProperties) => {
			expect(checkPropertyChange(current, ['email', 'score'], { lastSent: { score: [3], ...lastSent } })).toEqual({
				send: true,
			});
		});

		it('sends when a value was removed, and treats missing and [] alike', () => {
			expect(checkPropertyChange(profile({}), ['email'], { lastSent: { email: ['a@b.c'] } })).toEqual({ send: true });
			expect(checkPropertyChange(profile({ email: [] }), ['email'], { lastSent: {} })).toMatchObject({ send: false });
		});

		it('watches every property when none is selected', () => {
			expect(checkPropertyChange(current, [], { lastSent: { email: ['a@b.c'], name: ['Ann'], score: [3] } })).toMatchObject({
				send: false,
				reason: 'None of the properties changed since this node last sent for this profile.',
			});
			expect(checkPropertyChange(current, [], { lastSent: { email: ['a@b.c'], name: ['Ann'], score: [3], gone: ['x'] } })).toEqual({
				send: true,
			});
		});
	});

	describe("according to a trigger item's changes", () => {
		it('sends when a trigger property changed in the item', () => {
			const changes = { email: { mode: 'set' as const, before: ['old@b.c'], after: ['a@b.c'] } };
			expect(checkPropertyChange(current, ['email'], { changes })).toEqual({ send: true });
		});

		it('uses the changes instead of the snapshot', () => {
			const changes = { name: { mode: 'set' as const, before: ['Ann'], after: ['Ann'] } };
			// the snapshot differs, but the item says nothing changed for "name"
			expect(checkPropertyChange(current, ['name'], { changes, lastSent: { name: ['Bob'] } })).toEqual({
				send: false,
				code: 'NO_CHANGE',
				reason: 'None of the trigger properties ("name") changed in this item.',
			});
			expect(checkPropertyChange(current, ['email'], { changes: {}, lastSent: {} })).toMatchObject({ send: false });
		});

		it('counts any changed property when none is selected', () => {
			const changes = { other: { mode: 'add' as const, before: [], after: ['x'] } };
			expect(checkPropertyChange(current, [], { changes })).toEqual({ send: true });
		});
	});
});

describe('checkEvent', () => {
	it('sends when the item carries an event of a selected type', () => {
		expect(checkEvent([{ eventType: 'pageview' }, { eventType: 'purchase' }], ['purchase'])).toEqual({ send: true });
	});

	it('skips otherwise, saying which types', () => {
		expect(checkEvent([{ eventType: 'pageview' }], ['purchase', 'refund'])).toEqual({
			send: false,
			code: 'NO_EVENT',
			reason: 'The item carries no new timeline event of the types "purchase", "refund".',
		});
		expect(checkEvent(undefined, ['purchase'])).toMatchObject({ send: false, code: 'NO_EVENT' });
	});

	it('accepts any event when no type is selected', () => {
		expect(checkEvent([{ eventType: 'x' }], [])).toEqual({ send: true });
		expect(checkEvent([], [])).toEqual({ send: false, code: 'NO_EVENT', reason: 'The item carries no new timeline event.' });
	});
});

describe('snapshotFor', () => {
	const properties = { email: ['a@b.c'], name: ['Ann'], score: [3] };

	it('keeps the trigger properties the profile has, as copies', () => {
		const snapshot = snapshotFor({ properties }, ['email', 'missing']);
		expect({ ...snapshot }).toEqual({ email: ['a@b.c'] });
		snapshot.email.push('mutated');
		expect(properties.email).toEqual(['a@b.c']);
	});

	it('keeps every property when none is selected', () => {
		expect({ ...snapshotFor({ properties }, []) }).toEqual(properties);
	});

	it('makes the next run with unchanged properties skip', () => {
		const filter = compileFilters({ triggerOn: 'propertyChange', triggerProperties: ['email'] });
		const p = profile(properties);
		expect(filter.decide(p, {})).toEqual({ send: true });
		const lastSent = filter.snapshot(p);
		expect(filter.decide(p, { lastSent })).toMatchObject({ send: false, code: 'NO_CHANGE' });
		expect(filter.decide(profile({ ...properties, email: ['new@b.c'] }), { lastSent })).toEqual({ send: true });
	});
});

describe('compileFilters', () => {
	const gdprMember = profile({ segments: ['vip'], consented_objectives: ['marketing'], email: ['a@b.c'] }, 'GDPR');

	it('checks consent, then segments, then the trigger', () => {
		const filter = compileFilters({ segments: ['other'], objectives: ['analytics'], triggerOn: 'event', triggerEvents: ['x'] });
		expect(filter.decide(gdprMember, {})).toMatchObject({ code: 'NO_CONSENT' });
		const consentOk = compileFilters({ segments: ['other'], objectives: ['marketing'], triggerOn: 'event', triggerEvents: ['x'] });
		expect(consentOk.decide(gdprMember, {})).toMatchObject({ code: 'NOT_IN_SEGMENT' });
		const segmentOk = compileFilters({ segments: ['vip'], objectives: ['marketing'], triggerOn: 'event', triggerEvents: ['x'] });
		expect(segmentOk.decide(gdprMember, {})).toMatchObject({ code: 'NO_EVENT' });
		expect(segmentOk.decide(gdprMember, { events: [{ eventType: 'x' }] })).toEqual({ send: true });
	});

	it('always sends with triggerOn always, once consent and segments pass', () => {
		const filter = compileFilters({ triggerOn: 'always' });
		expect(filter.decide(profile({}), {})).toEqual({ send: true });
		expect(filter.decide(profile({}))).toEqual({ send: true });
	});

	it('normalizes the lists once', () => {
		const filter = compileFilters({ triggerOn: 'propertyChange', triggerProperties: [' email ', 'email', ''], segments: [' vip'] });
		expect(filter.config.triggerProperties).toEqual(['email']);
		expect(filter.config.segments).toEqual(['vip']);
	});

	it('refuses an unknown triggerOn', () => {
		expect(() => compileFilters({ triggerOn: 'sometimes' as TriggerOn })).toThrow(ConfigurationError);
	});
});
