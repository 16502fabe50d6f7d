import { parse as parseQueryString } from 'node:querystring';

import { readRequestData, type RequestData } from '../../../lib/inbound/requestData';
import { compileFieldSelector } from '../../../lib/mapping/fieldSelector';
import { compileRecordSelector } from '../../../lib/mapping/records';

const sendGrid = [
	{ email: 'a@example.com', event: 'open', sg_event_id: 'e1' },
	{ email: 'b@example.com', event: 'click', sg_event_id: 'e2' },
];
const braze = { events: [{ name: 'purchase', user: { external_user_id: 'u1' } }, { name: 'login', user: { external_user_id: 'u2' } }] };

describe('compileRecordSelector', () => {
	it('without a path the whole data is one record', () => {
		for (const path of [undefined, '', '   ']) {
			const records = compileRecordSelector(path);
			expect(records.path).toBeUndefined();
			expect(records.select(sendGrid)).toEqual([sendGrid]);
			const request: RequestData = { kind: 'json', data: braze };
			expect(records.selectRequests(request)).toEqual([request]);
			expect(records.selectRequests(request)[0]).toBe(request);
		}
	});

	it('SendGrid: $[*] makes each array element a record', () => {
		const records = compileRecordSelector('$[*]');
		expect(records.path).toBe('$[*]');
		expect(records.select(sendGrid)).toEqual(sendGrid);
	});

	it('Braze: $.events[*] makes each event a record', () => {
		expect(compileRecordSelector(' $.events[*] ').select(braze)).toEqual(braze.events);
	});

	it('a path that matches nothing gives no records', () => {
		expect(compileRecordSelector('$.events[*]').select({ other: [] })).toEqual([]);
		expect(compileRecordSelector('$.events[*]').select({ events: [] })).toEqual([]);
		expect(compileRecordSelector('$[*]').select(null)).toEqual([]);
	});

	it('selectRequests wraps each record so field selectors start at the record', () => {
		const requests = compileRecordSelector('$.events[*]').selectRequests({ kind: 'json', data: braze });
		expect(requests).toEqual([
			{ kind: 'json', data: braze.events[0] },
			{ kind: 'json', data: braze.events[1] },
		]);
		const name = compileFieldSelector('name');
		const user = compileFieldSelector('$.user.external_user_id');
		expect(requests.map((r) => [name.select(r), user.select(r)])).toEqual([
			[['purchase'], ['u1']],
			[['login'], ['u2']],
		]);
	});

	it('selectRequests reads the nested form of form fields', () => {
		const body = 'rows%5B0%5D%5Bemail%5D=a%40example.com&rows%5B1%5D%5Bemail%5D=b%40example.com';
		const request = readRequestData({
			method: 'POST',
			contentType: 'application/x-www-form-urlencoded',
			body: { ...parseQueryString(body) },
			query: {},
		});
		const email = compileFieldSelector('email');
		expect(compileRecordSelector('$.rows[*]').selectRequests(request).map((r) => email.select(r))).toEqual([
			['a@example.com'],
			['b@example.com'],
		]);
	});

	it('an invalid path is a configuration error naming it', () => {
		expect(() => compileRecordSelector('$.events[', 'options.recordsPath')).toThrow(
			/^options\.recordsPath: Invalid JsonPath "\$\.events\[": it has an unclosed "\["/,
		);
		expect(() => compileRecordSelector('events')).toThrow(/^recordsPath: Invalid JsonPath "events": must start with "\$"/);
	});
});
