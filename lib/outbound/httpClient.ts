/**
 * One execution's outgoing connections: a keep-alive pool (node:http/https Agents), so a batch of
 * requests to one API reuses a few TCP/TLS connections instead of opening one per request, as
 * n8n's request helper does (it builds a fresh agent per call; see docs/ or the README's
 * "Connections" section). Authentication is not done here: the node adds the credential's
 * headers or query, taken from n8n's credential handling.
 *
 * Kept from n8n's helper: the proxy settings of the environment (HTTP(S)_PROXY, NO_PROXY, through
 * Node's `proxyEnv`), and n8n's SSRF rules when the node hands in its egress filter (a secure DNS
 * lookup plus a check of IP-literal hosts). Not kept: n8n's per-request `proxy` option (the node
 * never set one), OpenTelemetry trace headers, and the `User-Agent: n8n` header.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export interface PooledRequest {
	method: string;
	url: string;
	headers: Record<string, string>;
	body?: string;
}

export interface PooledAnswer {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	/** The body as text (the node parses JSON). */
	body: string;
}

export interface EgressRules {
	/** A DNS lookup that refuses forbidden addresses (n8n's `createSecureLookup()`). */
	lookup?: LookupFunction;
	/** Throws for a host no lookup will see (an IP literal) when it is forbidden. */
	checkHost?: (host: string) => void;
}

export interface PooledClientOptions extends EgressRules {
	/** Connections per origin: the node's concurrency. */
	maxSockets: number;
	/** Environment for HTTP(S)_PROXY / NO_PROXY; default `process.env`. */
	proxyEnv?: NodeJS.ProcessEnv;
}

export interface PooledClient {
	send(request: PooledRequest, options: { timeoutMs: number; signal?: AbortSignal }): Promise<PooledAnswer>;
	/** Closes every connection of the pool (call when the execution's requests are done). */
	close(): void;
}

/** An error without an HTTP answer (connection refused, timeout, reset), with its code. */
export class RequestFailedError extends Error {
	constructor(
		message: string,
		readonly code: string | undefined,
		options?: { cause?: unknown },
	) {
		super(message, options);
		this.name = 'RequestFailedError';
	}
}

/** Bracketed IPv6 hosts come from URL with brackets; the checks want the bare address. */
const bareHost = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1');

export function createPooledClient(options: PooledClientOptions): PooledClient {
	const agentOptions = {
		keepAlive: true,
		maxSockets: Math.max(1, options.maxSockets),
		maxFreeSockets: Math.max(1, options.maxSockets),
		scheduling: 'lifo' as const,
		...(options.lookup ? { lookup: options.lookup } : {}),
		proxyEnv: options.proxyEnv ?? process.env,
	};
	const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

	const once = (
		request: PooledRequest,
		url: URL,
		timeoutMs: number,
		signal: AbortSignal | undefined,
	): Promise<PooledAnswer & { reusedSocket?: boolean }> =>
		new Promise((resolve, reject) => {
			const secure = url.protocol === 'https:';
			const headers: Record<string, string> = { ...request.headers };
			if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
			const outgoing = (secure ? https : http).request(url, {
				method: request.method,
				headers,
				agent: secure ? agents.https : agents.http,
				signal,
			});
			let reused = false;
			outgoing.setTimeout(timeoutMs, () => {
				outgoing.destroy(new RequestFailedError(`No answer within ${timeoutMs} ms`, 'ETIMEDOUT'));
			});
			outgoing.on('socket', () => {
				reused = outgoing.reusedSocket;
			});
			outgoing.on('error', (error: NodeJS.ErrnoException) => {
				const failure =
					error instanceof RequestFailedError
						? error
						: new RequestFailedError(error.message, error.code, { cause: error });
				Object.assign(failure, { reusedSocket: reused });
				reject(failure);
			});
			outgoing.on('response', (response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.on('error', reject);
				response.on('end', () =>
					resolve({
						status: response.statusCode ?? 0,
						headers: response.headers,
						body: Buffer.concat(chunks).toString('utf8'),
					}),
				);
			});
			outgoing.end(request.body);
		});

	return {
		async send(request, { timeoutMs, signal }) {
			const url = new URL(request.url);
			if (url.protocol !== 'http:' && url.protocol !== 'https:') {
				throw new RequestFailedError(`Only http and https URLs can be sent, not ${url.protocol}`, 'EPROTO');
			}
			if (options.checkHost) options.checkHost(bareHost(url.hostname));
			try {
				return await once(request, url, timeoutMs, signal);
			} catch (error) {
				// A kept-alive connection the server closed just as it was reused: the request never
				// reached it, so one immediate resend on a fresh connection is safe (what browsers do).
				const failure = error as RequestFailedError & { reusedSocket?: boolean };
				if (failure.reusedSocket && (failure.code === 'ECONNRESET' || failure.code === 'EPIPE')) {
					return await once(request, url, timeoutMs, signal);
				}
				throw error;
			}
		},
		close() {
			agents.http.destroy();
			agents.https.destroy();
		},
	};
}
