/** A real HTTP server on 127.0.0.1 for the outbound tests, and a plain node:http client. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Outcome } from '../../../../lib/outbound/retry';

export interface SeenRequest {
	method: string;
	url: string;
	headers: http.IncomingHttpHeaders;
	body: string;
	/** performance.now() when the request arrived. */
	at: number;
}

export interface LocalServer {
	url: string;
	requests: SeenRequest[];
	/** Most requests being answered at the same time. */
	maxInFlight: number;
	close(): Promise<void>;
}

export type Handler = (
	req: http.IncomingMessage,
	res: http.ServerResponse,
	index: number,
) => void | Promise<void>;

export async function startServer(handler: Handler): Promise<LocalServer> {
	const requests: SeenRequest[] = [];
	let inFlight = 0;
	const state = { maxInFlight: 0 };
	const server = http.createServer((req, res) => {
		const index = requests.length;
		const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', at: performance.now() };
		requests.push(seen);
		inFlight++;
		state.maxInFlight = Math.max(state.maxInFlight, inFlight);
		res.on('close', () => inFlight--);
		req.setEncoding('utf8');
		req.on('data', (chunk: string) => (seen.body += chunk));
		req.on('end', () => {
			void Promise.resolve(handler(req, res, index)).catch((error: unknown) => {
				res.statusCode = 500;
				res.end(String(error));
			});
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		requests,
		get maxInFlight() {
			return state.maxInFlight;
		},
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

export interface Answer extends Outcome {
	body?: string;
}

/** One request; an HTTP answer of any status is an outcome, a network failure is `{ error }`. */
export function request(
	url: string,
	method = 'GET',
	agent?: http.Agent,
	headers: Record<string, string> = {},
	body?: string,
): Promise<Answer> {
	return new Promise((resolve) => {
		const req = http.request(url, { method, agent, headers }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
		});
		req.on('error', (error) => resolve({ error }));
		req.end(body);
	});
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
