import { ProfileWebhookError } from '../../../lib/errors';
import { compileIdempotency, eventIdOf } from '../../../lib/inbound/idempotency';
import type { RequestData } from '../../../lib/inbound/requestData';

const json = (data: unknown): RequestData => ({ kind: 'json', data });
const form = (fields: Record<string, string>): RequestData => ({ kind: 'form', data: fields, form: fields });

describe('compileIdempotency', () => {
	it('is off without a key', () => {
		expect(compileIdempotency(undefined, undefined)).toBeUndefined();
		expect(compileIdempotency('  ', 60)).toBeUndefined();
		expect(eventIdOf(undefined, { headers: { 'webhook-id': 'msg_1' } }, json({}))).toBeUndefined();
	});

	it('reads a header name (any case) with a 24 h default window', () => {
		const compiled = compileIdempotency('Webhook-Id', undefined)!;
		expect(compiled.source).toEqual({ kind: 'header', field: 'Webhook-Id' });
		expect(compiled.windowMs).toBe(86_400_000);
		expect(compiled.eventId({ headers: { 'webhook-id': ' msg_p5jXN8AQM9LWM0D4loKWxJek ' } }, json({}))).toBe('msg_p5jXN8AQM9LWM0D4loKWxJek');
		expect(compiled.eventId({ headers: { 'webhook-id': ['msg_a', 'msg_b'] } }, json({}))).toBe('msg_a');
		expect(compiled.eventId({ headers: {} }, json({ 'webhook-id': 'not a header' }))).toBeUndefined();
	});

	it('reads a JsonPath from JSON and form data, numbers as text', () => {
		const compiled = compileIdempotency('$.event.id', 600)!;
		expect(compiled.source).toEqual({ kind: 'jsonPath', field: '$.event.id' });
		expect(compiled.windowMs).toBe(600_000);
		expect(eventIdOf(compiled, { headers: {} }, json({ event: { id: 'evt_1' } }))).toBe('evt_1');
		expect(eventIdOf(compiled, { headers: {} }, json({ event: { id: 42 } }))).toBe('42');
		expect(eventIdOf(compiled, { headers: {} }, json({ event: {} }))).toBeUndefined();
		expect(eventIdOf(compiled, { headers: {} }, json({ event: { id: { nested: 1 } } }))).toBeUndefined();
		const flat = compileIdempotency('$.id', undefined)!;
		expect(eventIdOf(flat, { headers: {} }, form({ id: 'f-1' }))).toBe('f-1');
	});

	it('refuses a request whose path selects several different ids, or an overlong id (400)', () => {
		const compiled = compileIdempotency('$.events[*].id', undefined)!;
		expect(eventIdOf(compiled, { headers: {} }, json({ events: [{ id: 'a' }, { id: 'a' }] }))).toBe('a');
		const several = (() => {
			try {
				return eventIdOf(compiled, { headers: {} }, json({ events: [{ id: 'a' }, { id: 'b' }] }));
			} catch (error) {
				return error;
			}
		})();
		expect(several).toBeInstanceOf(ProfileWebhookError);
		expect(several).toMatchObject({ status: 400, message: 'The idempotency key $.events[*].id selects several event ids in this request' });
		const header = compileIdempotency('idempotency-key', undefined)!;
		expect(() => header.eventId({ headers: { 'idempotency-key': 'x'.repeat(201) } }, json({}))).toThrow(
			'The event id in idempotency-key is longer than 200 characters',
		);
	});

	it('names a bad key or window', () => {
		const issues: Array<{ target: string; message: string }> = [];
		expect(compileIdempotency('webhook id', undefined, issues)).toBeUndefined();
		expect(compileIdempotency('$..[', undefined, issues)).toBeUndefined();
		expect(compileIdempotency('webhook-id', 0, issues)).toBeUndefined();
		expect(issues[0]).toEqual({ target: 'Idempotency Key', message: '"webhook id" is neither a header name nor a JsonPath (starting with $)' });
		expect(issues[1].target).toBe('Idempotency Key');
		expect(issues[2]).toEqual({ target: 'Idempotency Window (Seconds)', message: 'must be a whole number from 1 to 2592000 (30 days)' });
	});
});
