/** A real HTTP server on 127.0.0.1 that records what it receives and answers as told. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
	method: string;
	url: string;
	headers: IncomingHttpHeaders;
	body: string;
	/** Milliseconds since the receiver started. */
	at: number;
}

export interface Reply {
	status?: number;
	headers?: Record<string, string>;
	body?: unknown;
	/** Wait before answering. */
	delayMs?: number;
}

export interface Receiver {
	url: string;
	requests: ReceivedRequest[];
	/** The most requests that were being answered at the same time. */
	maxInFlight: number;
	/** TCP connections opened since the last reset (connection reuse shows here). */
	connections: number;
	/** How to answer each request; the default answers 200 `{"ok":true}`. */
	reply: (request: ReceivedRequest, index: number) => Reply;
	reset(): void;
	close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
	const started = Date.now();
	let inFlight = 0;
	const receiver: Receiver = {
		url: '',
		requests: [],
		maxInFlight: 0,
		connections: 0,
		reply: () => ({ status: 200, body: { ok: true } }),
		reset() {
			receiver.requests = [];
			receiver.maxInFlight = 0;
			receiver.connections = 0;
			receiver.reply = () => ({ status: 200, body: { ok: true } });
		},
		close: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
	const server: Server = createServer(async (req, res) => {
		inFlight++;
		receiver.maxInFlight = Math.max(receiver.maxInFlight, inFlight);
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const request: ReceivedRequest = {
			method: req.method ?? '',
			url: req.url ?? '',
			headers: req.headers,
			body: Buffer.concat(chunks).toString('utf8'),
			at: Date.now() - started,
		};
		const index = receiver.requests.push(request) - 1;
		const reply = receiver.reply(request, index);
		if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
		const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
		res.writeHead(reply.status ?? 200, {
			'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
			...reply.headers,
		});
		res.end(body);
		inFlight--;
	});
	server.on('connection', () => receiver.connections++);
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return receiver;
}
