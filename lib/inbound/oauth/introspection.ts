/**
 * Opaque access tokens checked by RFC 7662 token introspection. Active answers are kept for a
 * short time (never past the token's own expiry), so a busy webhook asks the authorization server
 * once per token and TTL rather than once per request; inactive answers are never kept, so a
 * token that becomes valid is not refused from memory. Tokens are held only as SHA-256 digests.
 */
import { createHash } from 'node:crypto';

import { checkClaims, type AcceptedClaims, type ClaimRules } from './claims';
import { AuthServerUnavailableError, TokenRefusedError } from './errors';
import { formEncode, jsonObject, type HttpFetch } from './http';

export interface IntrospectionOptions {
	url: string;
	clientId: string;
	clientSecret: string;
	/** How this resource server authenticates at the endpoint (RFC 6749 section 2.3.1). */
	clientAuthentication: 'basic' | 'body';
	/** How long an active answer is reused, in milliseconds; 0 asks every time. */
	cacheTtlMs: number;
	maxEntries?: number;
	clock?: () => number;
}

interface CachedAnswer {
	claims: Record<string, unknown>;
	until: number;
}

/** Client id or secret in HTTP Basic, form-encoded first as RFC 6749 section 2.3.1 asks. */
export function basicCredentials(id: string, secret: string): string {
	const encode = (value: string) => formEncode({ v: value }).slice(2);
	return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export class Introspector {
	private readonly cache = new Map<string, CachedAnswer>();
	private readonly inflight = new Map<string, Promise<Record<string, unknown>>>();
	private readonly clock: () => number;
	/** How many times the endpoint was asked (for tests and diagnostics). */
	calls = 0;

	constructor(private readonly options: IntrospectionOptions) {
		this.clock = options.clock ?? Date.now;
	}

	async verify(token: string, rules: ClaimRules, http: HttpFetch): Promise<AcceptedClaims> {
		const digest = createHash('sha256').update(token).digest('base64url');
		const now = this.clock();
		const cached = this.cache.get(digest);
		let claims: Record<string, unknown>;
		if (cached && cached.until > now) {
			claims = cached.claims;
		} else {
			if (cached) this.cache.delete(digest);
			let pending = this.inflight.get(digest);
			if (!pending) {
				pending = this.ask(token, http).finally(() => this.inflight.delete(digest));
				this.inflight.set(digest, pending);
			}
			claims = await pending;
			this.remember(digest, claims);
		}
		const tokenType = claims.token_type;
		if (typeof tokenType === 'string' && !['bearer', 'access_token', 'dpop'].includes(tokenType.toLowerCase())) {
			throw new TokenRefusedError('inactive', `The token is a ${tokenType}, not an access token`);
		}
		// An active token within its lifetime, as the server saw it: exp is still checked here
		// because a cached answer can outlive it by the clock skew.
		return checkClaims(claims, { ...rules, requireExpiry: false }, this.clock());
	}

	private async ask(token: string, http: HttpFetch): Promise<Record<string, unknown>> {
		const { url, clientId, clientSecret, clientAuthentication } = this.options;
		this.calls += 1;
		const form: Record<string, string> = { token, token_type_hint: 'access_token' };
		const headers: Record<string, string> = {
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'application/json',
		};
		if (clientAuthentication === 'body') {
			form.client_id = clientId;
			form.client_secret = clientSecret;
		} else {
			headers.authorization = basicCredentials(clientId, clientSecret);
		}
		let status: number;
		let answer: Record<string, unknown> | undefined;
		try {
			const response = await http({ method: 'POST', url, headers, body: formEncode(form) });
			status = response.status;
			answer = jsonObject(response.body);
		} catch (error) {
			throw new AuthServerUnavailableError(
				`The token introspection endpoint ${url} could not be reached (${(error as Error).message})`,
			);
		}
		if (status !== 200 || !answer || typeof answer.active !== 'boolean') {
			throw new AuthServerUnavailableError(
				status !== 200
					? `The token introspection endpoint ${url} answered HTTP ${status}${typeof answer?.error === 'string' ? ` (${answer.error})` : ''}`
					: `The token introspection endpoint ${url} did not answer an introspection response`,
			);
		}
		if (answer.active !== true) {
			throw new TokenRefusedError(
				'inactive',
				'The access token is not active: the authorization server does not know it, or it expired or was revoked (introspection)',
			);
		}
		return answer;
	}

	private remember(digest: string, claims: Record<string, unknown>): void {
		const now = this.clock();
		let until = now + this.options.cacheTtlMs;
		if (typeof claims.exp === 'number') until = Math.min(until, claims.exp * 1000);
		if (until <= now) return;
		const max = this.options.maxEntries ?? 1000;
		if (this.cache.size >= max) {
			for (const [key, entry] of this.cache) if (entry.until <= now) this.cache.delete(key);
			while (this.cache.size >= max) this.cache.delete(this.cache.keys().next().value as string);
		}
		this.cache.set(digest, { claims, until });
	}
}
