import http from 'node:http';

import { ConfigurationError } from '../../../lib/errors';
import { mapWithConcurrency } from '../../../lib/outbound/concurrency';
import { delay, request, startServer } from './helpers/localServer';
import type { LocalServer } from './helpers/localServer';

describe('mapWithConcurrency against a real server on 127.0.0.1', () => {
	let server: LocalServer | undefined;
	// An agent that never queues requests itself, so any bound observed comes from mapWithConcurrency.
	const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
	afterEach(async () => {
		await server?.close();
		server = undefined;
	});
	afterAll(() => agent.destroy());

	/** Answers after a delay that depends on the item, so items finish out of order. */
	async function slowServer(): Promise<LocalServer> {
		return startServer(async (req, res) => {
			const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n'));
			await delay(30 + ((n * 37) % 50));
			res.writeHead(200, { 'Content-Type': 'text/plain' });
			res.end(`item ${n}`);
		});
	}

	it.each([1, 3, 4, 8])('keeps exactly %d requests in flight at the server, results in order', async (limit) => {
		server = await slowServer();
		const base = server.url;
		const items = Array.from({ length: 24 }, (_, i) => i);
		const results = await mapWithConcurrency(items, limit, async (n) => (await request(`${base}/?n=${n}`, 'GET', agent)).body);
		expect(results).toEqual(items.map((n) => `item ${n}`));
		expect(server.requests).toHaveLength(24);
		expect(server.maxInFlight).toBe(limit);
	});

	it('never exceeds the number of items', async () => {
		server = await slowServer();
		const base = server.url;
		await mapWithConcurrency([1, 2, 3], 10, (n) => request(`${base}/?n=${n}`, 'GET', agent));
		expect(server.maxInFlight).toBe(3);
	});
});

describe('mapWithConcurrency', () => {
	it('passes each item with its index', async () => {
		expect(await mapWithConcurrency(['a', 'b', 'c'], 2, async (item, index) => `${index}:${item}`)).toEqual([
			'0:a',
			'1:b',
			'2:c',
		]);
	});

	it('resolves [] for no items without calling fn', async () => {
		const fn = jest.fn(async () => 1);
		expect(await mapWithConcurrency([], 3, fn)).toEqual([]);
		expect(fn).not.toHaveBeenCalled();
	});

	it('accepts Infinity as no bound', async () => {
		let inFlight = 0;
		let max = 0;
		await mapWithConcurrency(Array.from({ length: 10 }), Number.POSITIVE_INFINITY, async () => {
			max = Math.max(max, ++inFlight);
			await delay(5);
			inFlight--;
		});
		expect(max).toBe(10);
	});

	it('on a rejection starts nothing more, waits for calls in flight, and throws the first error', async () => {
		const started: number[] = [];
		const finished: number[] = [];
		const pending = mapWithConcurrency([0, 1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
			started.push(n);
			await delay(n === 1 ? 5 : 30);
			if (n === 1) throw new Error('item 1 failed');
			if (n === 2) throw new Error('item 2 failed later');
			finished.push(n);
			return n;
		});
		await expect(pending).rejects.toThrow('item 1 failed');
		// 0, 1, 2 start; 1 fails, so its worker stops; 0 and 2 were in flight and were awaited.
		expect(started).toEqual([0, 1, 2]);
		expect(finished).toEqual([0]);
	});

	it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p', async (limit) => {
		await expect(mapWithConcurrency([1], limit, async (n) => n)).rejects.toThrow(ConfigurationError);
	});
});
