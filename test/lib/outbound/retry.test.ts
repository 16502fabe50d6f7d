import { ConfigurationError } from '../../../lib/errors';
import { backoffDelay, parseRetryAfter, sendWithRetries } from '../../../lib/outbound/retry';
import type { Outcome, RetryInfo, RetryOptions } from '../../../lib/outbound/retry';
import { request, startServer } from './helpers/localServer';
import type { LocalServer } from './helpers/localServer';

/** Attempts answered from a script, and a sleep that only records. */
function scripted(outcomes: Array<Outcome | Error>) {
	const calls: number[] = [];
	const slept: number[] = [];
	const attempt = async (n: number): Promise<Outcome> => {
		calls.push(n);
		const next = outcomes[Math.min(n - 1, outcomes.length - 1)];
		if (next instanceof Error) throw next;
		return next;
	};
	const sleep = async (ms: number): Promise<void> => {
		slept.push(ms);
	};
	return { attempt, calls, slept, sleep };
}

const fast = (overrides: Partial<RetryOptions> = {}): RetryOptions => ({
	retries: 5,
	baseDelayMs: 100,
	maxDelayMs: 1000,
	jitter: 'none',
	...overrides,
});

describe('parseRetryAfter', () => {
	const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

	it.each([
		['2', 2000],
		[' 120 ', 120_000],
		['0', 0],
		['Wed, 21 Oct 2015 07:28:05 GMT', 5000],
		['Wednesday, 21-Oct-15 07:28:07 GMT', 7000],
		['Wed Oct 21 07:28:09 2015', 9000],
		['Wed, 21 Oct 2015 07:27:00 GMT', 0],
	])('reads %j as %d ms', (value, ms) => {
		expect(parseRetryAfter(value, now)).toBe(ms);
	});

	it.each([[undefined], [''], ['soon'], ['-1'], ['1.5'], ['2015-10-21'], ['Wed, 99 Foo 2015']])('ignores %j', (value) => {
		expect(parseRetryAfter(value, now)).toBeUndefined();
	});

	it('takes the first of repeated headers, and numbers as seconds', () => {
		expect(parseRetryAfter(['3', '10'], now)).toBe(3000);
		expect(parseRetryAfter(4, now)).toBe(4000);
	});
});

describe('backoffDelay', () => {
	const options = { baseDelayMs: 100, maxDelayMs: 1000 };

	it('doubles from the base and stops at the maximum', () => {
		expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { ...options, jitter: 'none' }))).toEqual([
			100, 200, 400, 800, 1000, 1000,
		]);
	});

	it('full jitter: anywhere from 0 to the backoff', () => {
		expect(backoffDelay(3, { ...options, jitter: 'full' }, () => 0)).toBe(0);
		expect(backoffDelay(3, { ...options, jitter: 'full' }, () => 0.5)).toBe(200);
		expect(backoffDelay(3, { ...options, jitter: 'full' }, () => 0.9999)).toBe(400);
		for (let i = 0; i < 500; i++) {
			const d = backoffDelay(4, { ...options, jitter: 'full' });
			expect(d).toBeGreaterThanOrEqual(0);
			expect(d).toBeLessThanOrEqual(800);
		}
	});

	it('equal jitter: half the backoff plus a random half', () => {
		expect(backoffDelay(3, { ...options, jitter: 'equal' }, () => 0)).toBe(200);
		expect(backoffDelay(3, { ...options, jitter: 'equal' }, () => 0.5)).toBe(300);
		expect(backoffDelay(6, { ...options, jitter: 'equal' }, () => 0.9999)).toBe(1000);
	});

	it('defaults to full jitter', () => {
		expect(backoffDelay(2, options, () => 0.25)).toBe(50);
	});
});

describe('sendWithRetries (scripted attempts)', () => {
	it('returns a success at once', async () => {
		const s = scripted([{ status: 200 }]);
		await expect(sendWithRetries(s.attempt, { ...fast(), sleep: s.sleep })).resolves.toEqual({
			status: 200,
			attempts: 1,
			delaysMs: [],
		});
	});

	it.each([429, 500, 502, 503, 504, 599])('retries %d with exponential backoff', async (status) => {
		const s = scripted([{ status }, { status }, { status }, { status: 201 }]);
		const result = await sendWithRetries(s.attempt, { ...fast(), sleep: s.sleep });
		expect(result).toMatchObject({ status: 201, attempts: 4, delaysMs: [100, 200, 400] });
		expect(s.slept).toEqual([100, 200, 400]);
		expect(s.calls).toEqual([1, 2, 3, 4]);
	});

	it.each([400, 401, 403, 404, 405, 408, 409, 410, 413, 422, 451])('never retries %d', async (status) => {
		const s = scripted([{ status }, { status: 200 }]);
		const result = await sendWithRetries(s.attempt, { ...fast(), sleep: s.sleep });
		expect(result).toMatchObject({ status, attempts: 1 });
		expect(s.slept).toEqual([]);
	});

	it('does not retry 3xx answers', async () => {
		const s = scripted([{ status: 302 }, { status: 200 }]);
		expect(await sendWithRetries(s.attempt, { ...fast(), sleep: s.sleep })).toMatchObject({ status: 302, attempts: 1 });
	});

	it('retries network errors, including attempts that throw', async () => {
		const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
		const s = scripted([{ error: refused }, new Error('socket hang up'), { status: 200 }]);
		const result = await sendWithRetries(s.attempt, { ...fast(), sleep: s.sleep });
		expect(result).toMatchObject({ status: 200, attempts: 3, delaysMs: [100, 200] });
	});

	it('gives up after the retries and returns the last outcome', async () => {
		const s = scripted([{ status: 503, headers: { 'x-n': '1' } }]);
		const result = await sendWithRetries(s.attempt, { ...fast({ retries: 2 }), sleep: s.sleep });
		expect(result).toEqual({ status: 503, headers: { 'x-n': '1' }, attempts: 3, delaysMs: [100, 200] });

		const thrown = new Error('ETIMEDOUT');
		const t = scripted([thrown]);
		const failed = await sendWithRetries(t.attempt, { ...fast({ retries: 1 }), sleep: t.sleep });
		expect(failed).toEqual({ error: thrown, attempts: 2, delaysMs: [100] });
	});

	it('sends once with retries 0', async () => {
		const s = scripted([{ status: 500 }, { status: 200 }]);
		expect(await sendWithRetries(s.attempt, { ...fast({ retries: 0 }), sleep: s.sleep })).toMatchObject({
			status: 500,
			attempts: 1,
		});
	});

	it('lets the caller say which errors are not worth retrying', async () => {
		const s = scripted([{ error: new Error('certificate has expired') }, { status: 200 }]);
		const result = await sendWithRetries(s.attempt, {
			...fast(),
			sleep: s.sleep,
			isRetryableError: (e) => !(e instanceof Error && e.message.includes('certificate')),
		});
		expect(result).toMatchObject({ attempts: 1 });
		expect(result.error).toBeInstanceOf(Error);
	});

	it('decides on the status when an outcome has both a status and an error', async () => {
		const s = scripted([{ status: 404, error: new Error('Not Found') }, { status: 200 }]);
		expect(await sendWithRetries(s.attempt, { ...fast(), sleep: s.sleep })).toMatchObject({ status: 404, attempts: 1 });
	});

	it('honours Retry-After in seconds, case-insensitively, without jitter, capped by maxDelayMs', async () => {
		const s = scripted([
			{ status: 429, headers: { 'Retry-After': '0' } },
			{ status: 503, headers: { 'retry-after': ['1'] } },
			{ status: 429, headers: { 'retry-after': '30' } },
			{ status: 200 },
		]);
		const result = await sendWithRetries(s.attempt, { ...fast({ maxDelayMs: 5000, jitter: 'full' }), sleep: s.sleep });
		expect(result.delaysMs).toEqual([0, 1000, 5000]);
	});

	it('honours Retry-After as an HTTP date', async () => {
		const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
		const s = scripted([{ status: 503, headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:03 GMT' } }, { status: 200 }]);
		const result = await sendWithRetries(s.attempt, { ...fast({ maxDelayMs: 10_000 }), sleep: s.sleep, now: () => now });
		expect(result.delaysMs).toEqual([3000]);
	});

	it('falls back to backoff when Retry-After is not understood', async () => {
		const s = scripted([{ status: 429, headers: { 'retry-after': 'later' } }, { status: 200 }]);
		expect((await sendWithRetries(s.attempt, { ...fast(), sleep: s.sleep })).delaysMs).toEqual([100]);
	});

	it('applies jitter to the backoff', async () => {
		const s = scripted([{ status: 500 }, { status: 500 }, { status: 200 }]);
		const full = await sendWithRetries(s.attempt, { ...fast({ jitter: 'full' }), sleep: s.sleep, random: () => 0.5 });
		expect(full.delaysMs).toEqual([50, 100]);
		const e = scripted([{ status: 500 }, { status: 500 }, { status: 200 }]);
		const equal = await sendWithRetries(e.attempt, { ...fast({ jitter: 'equal' }), sleep: e.sleep, random: () => 0 });
		expect(equal.delaysMs).toEqual([50, 100]);
	});

	it('reports each retry', async () => {
		const s = scripted([{ status: 429, headers: { 'retry-after': '2' } }, { error: 'boom' }, { status: 200 }]);
		const seen: RetryInfo[] = [];
		await sendWithRetries(s.attempt, { ...fast({ maxDelayMs: 5000 }), sleep: s.sleep, onRetry: (i) => seen.push(i) });
		expect(seen).toEqual([
			{ attempt: 1, delayMs: 2000, retryAfterMs: 2000, outcome: { status: 429, headers: { 'retry-after': '2' } } },
			{ attempt: 2, delayMs: 200, outcome: { error: 'boom' } },
		]);
	});

	it('stops when the signal aborts, even in the middle of a long wait', async () => {
		const controller = new AbortController();
		const s = scripted([{ status: 503, headers: { 'retry-after': '60' } }, { status: 200 }]);
		const started = Date.now();
		const pending = sendWithRetries(s.attempt, { ...fast({ maxDelayMs: 60_000 }), signal: controller.signal });
		setTimeout(() => controller.abort(new Error('execution cancelled')), 50);
		await expect(pending).rejects.toThrow('execution cancelled');
		expect(Date.now() - started).toBeLessThan(5000);
		expect(s.calls).toEqual([1]);
	});

	it('refuses options that make no sense', async () => {
		const s = scripted([{ status: 200 }]);
		await expect(sendWithRetries(s.attempt, { ...fast(), retries: -1 })).rejects.toThrow(ConfigurationError);
		await expect(sendWithRetries(s.attempt, { ...fast(), retries: 1.5 })).rejects.toThrow(/retries: must be a whole number/);
		await expect(sendWithRetries(s.attempt, { ...fast(), baseDelayMs: Number.NaN })).rejects.toThrow(/baseDelayMs/);
		expect(s.calls).toEqual([]);
	});
});

describe('sendWithRetries against a real server on 127.0.0.1', () => {
	let server: LocalServer | undefined;
	afterEach(async () => {
		await server?.close();
		server = undefined;
	});

	it('waits for Retry-After: 2 after a 429, with the real clock', async () => {
		server = await startServer((_req, res, index) => {
			if (index === 0) {
				res.writeHead(429, { 'Retry-After': '2', 'Content-Type': 'application/json' });
				res.end('{"error":"slow down"}');
			} else {
				res.writeHead(200, { 'Content-Type': 'application/json' });
				res.end('{"ok":true}');
			}
		});
		const url = `${server.url}/hook`;
		const result = await sendWithRetries(() => request(url, 'POST'), {
			retries: 3,
			baseDelayMs: 10,
			maxDelayMs: 10_000,
			jitter: 'full',
		});
		expect(result).toMatchObject({ status: 200, attempts: 2, delaysMs: [2000] });
		expect(server.requests).toHaveLength(2);
		const gap = server.requests[1].at - server.requests[0].at;
		expect(gap).toBeGreaterThanOrEqual(1900);
		expect(gap).toBeLessThan(3500);
	}, 15_000);

	it('does not retry a 400: the server sees exactly one request', async () => {
		server = await startServer((_req, res) => {
			res.writeHead(400, { 'Content-Type': 'application/json' });
			res.end('{"error":"bad"}');
		});
		const url = `${server.url}/hook`;
		const result = await sendWithRetries(() => request(url, 'POST'), { retries: 5, baseDelayMs: 10, maxDelayMs: 100 });
		expect(result).toMatchObject({ status: 400, attempts: 1 });
		expect(server.requests).toHaveLength(1);
	});

	it('retries 5xx with backoff until the server recovers', async () => {
		server = await startServer((_req, res, index) => {
			res.writeHead(index < 2 ? 503 : 200);
			res.end();
		});
		const url = server.url;
		const result = await sendWithRetries(() => request(url), { retries: 5, baseDelayMs: 100, maxDelayMs: 1000, jitter: 'none' });
		expect(result).toMatchObject({ status: 200, attempts: 3, delaysMs: [100, 200] });
		expect(server.requests).toHaveLength(3);
		expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(90);
		expect(server.requests[2].at - server.requests[1].at).toBeGreaterThanOrEqual(190);
	});

	it('retries a refused connection and returns the network error in the end', async () => {
		const closed = await startServer((_req, res) => {
			res.end();
		});
		const url = closed.url;
		await closed.close();
		let attempts = 0;
		const result = await sendWithRetries(
			() => {
				attempts++;
				return request(url);
			},
			{ retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
		);
		expect(attempts).toBe(3);
		expect(result.attempts).toBe(3);
		expect(result.status).toBeUndefined();
		expect((result.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
	});
});
