import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createPooledClient, RequestFailedError } from '../../../lib/outbound/httpClient';

let server: Server;
let url: string;
let connections = 0;

beforeAll(async () => {
	server = createServer((req, res) => {
		if (req.url === '/slow') return; // never answers
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			res.writeHead(201, { 'content-type': 'application/json', 'x-echo': req.headers['x-key'] ?? '' });
			res.end(JSON.stringify({ body: Buffer.concat(chunks).toString('utf8'), method: req.method }));
		});
	});
	server.on('connection', () => connections++);
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
	server.closeAllConnections();
	await new Promise((resolve) => server.close(resolve));
});

describe('createPooledClient', () => {
	it('sends method, headers and body, answers status, headers and text, and reuses its connections', async () => {
		const client = createPooledClient({ maxSockets: 2 });
		const before = connections;
		try {
			const answers = await Promise.all(
				Array.from({ length: 20 }, (_, i) =>
					client.send({ method: 'PUT', url: `${url}/x`, headers: { 'x-key': `k${i}` }, body: `b${i}` }, { timeoutMs: 5000 }),
				),
			);
			expect(answers[7]).toMatchObject({ status: 201, headers: { 'x-echo': 'k7' } });
			expect(JSON.parse(answers[7].body)).toEqual({ body: 'b7', method: 'PUT' });
			expect(connections - before).toBeLessThanOrEqual(2);
		} finally {
			client.close();
		}
	});

	it('gives up after the timeout with ETIMEDOUT, and refuses other schemes', async () => {
		const client = createPooledClient({ maxSockets: 1 });
		try {
			await expect(client.send({ method: 'GET', url: `${url}/slow`, headers: {} }, { timeoutMs: 50 })).rejects.toMatchObject({
				code: 'ETIMEDOUT',
			});
			await expect(client.send({ method: 'GET', url: 'file:///etc/passwd', headers: {} }, { timeoutMs: 50 })).rejects.toBeInstanceOf(
				RequestFailedError,
			);
		} finally {
			client.close();
		}
	});

	it('asks the egress check about the host before connecting', async () => {
		const seen: string[] = [];
		const client = createPooledClient({
			maxSockets: 1,
			checkHost: (host) => {
				seen.push(host);
				throw new Error(`blocked ${host}`);
			},
		});
		try {
			await expect(client.send({ method: 'GET', url: `${url}/x`, headers: {} }, { timeoutMs: 1000 })).rejects.toThrow('blocked 127.0.0.1');
			expect(seen).toEqual(['127.0.0.1']);
		} finally {
			client.close();
		}
	});
});
