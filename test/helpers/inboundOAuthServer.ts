/**
 * Starts test/helpers/inboundOAuthServer.child.mjs (a real oidc-provider, ESM-only, hence a child
 * process running this Node) on 127.0.0.1 and talks to it: tokens by client_credentials, request
 * counts per endpoint, publishing a held-back signing key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const AS_CLIENT = { id: 'crm-platform', secret: 'crm-secret' };
export const AS_INTROSPECTOR = { id: 'introspector', secret: 'introspector-secret' };
export const AS_HS256_SECRET = 'hs256-shared-secret-for-tests-0123456789abcdef';
/** The audience of the server's JWT access tokens for every `urn:profiles:api*` resource. */
export const AS_AUDIENCE = 'urn:profiles:api';

export interface ServerStats {
	jwks: number;
	introspection: number;
	token: number;
}

export interface InboundOAuthServer {
	/** The issuer, e.g. http://127.0.0.1:41234 */
	url: string;
	jwksUrl: string;
	introspectionUrl: string;
	/** A client_credentials access token; with `resource` a JWT for that resource, else opaque. */
	token(options?: { scope?: string; resource?: string }): Promise<string>;
	revoke(token: string): Promise<void>;
	stats(): Promise<ServerStats>;
	/** Adds a held-back key (kid `rs-rotated`) to the JWKS, as a key rotation would. */
	publish(kid: string): Promise<void>;
	close(): Promise<void>;
}

const basic = (id: string, secret: string) =>
	`Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

export async function startInboundOAuthServer(): Promise<InboundOAuthServer> {
	const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'inboundOAuthServer.child.mjs')], {
		stdio: ['pipe', 'pipe', 'pipe'],
		env: { ...process.env, HS256_SECRET: AS_HS256_SECRET },
	});
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const lines = createInterface({ input: child.stdout! });
	const first = await Promise.race([
		once(lines, 'line').then(([line]) => String(line)),
		once(child, 'exit').then(([code]) => {
			throw new Error(`the OAuth server exited (${String(code)}): ${stderr}`);
		}),
	]);
	const { url } = JSON.parse(first) as { url: string };

	const post = async (path: string, form: Record<string, string>) =>
		await fetch(`${url}${path}`, {
			method: 'POST',
			headers: {
				authorization: basic(AS_CLIENT.id, AS_CLIENT.secret),
				'content-type': 'application/x-www-form-urlencoded',
			},
			body: new URLSearchParams(form).toString(),
		});

	return {
		url,
		jwksUrl: `${url}/jwks`,
		introspectionUrl: `${url}/token/introspection`,
		async token(options = {}) {
			const form: Record<string, string> = { grant_type: 'client_credentials' };
			if (options.scope) form.scope = options.scope;
			if (options.resource) form.resource = options.resource;
			const res = await post('/token', form);
			const body = (await res.json()) as { access_token?: string };
			if (res.status !== 200 || !body.access_token) {
				throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
			}
			return body.access_token;
		},
		async revoke(token) {
			const res = await post('/token/revocation', { token });
			if (res.status !== 200) throw new Error(`revocation failed: ${res.status}`);
		},
		async stats() {
			return (await (await fetch(`${url}/__control/stats`)).json()) as ServerStats;
		},
		async publish(kid) {
			await fetch(`${url}/__control/publish/${encodeURIComponent(kid)}`, { method: 'POST' });
		},
		async close() {
			if (child.exitCode !== null) return;
			const exited = once(child, 'exit');
			child.kill('SIGTERM');
			await exited;
		},
	};
}
