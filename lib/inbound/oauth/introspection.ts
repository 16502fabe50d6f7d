/**
 * Opaque access tokens checked by RFC 7662 token introspection. Active answers are kept for a
 * short time (never past the token's own expiry), so a busy webhook asks the authorization server
 * once per token and TTL rather than once per request. Inactive answers are kept too, for a short
 * time (a junk token sent again is refused from memory), and the calls themselves are bounded per
 * second, so a caller sending many distinct junk tokens cannot make the trigger flood the
 * authorization server: past the bound it answers 503 with Retry-After (not 401, which would tell
 * a client holding a good token that its token is bad). Tokens are held only as SHA-256 digests.
 */
import { createHash } from 'node:crypto';

import { checkClaims, type AcceptedClaims, type ClaimRules } from './claims';
import { AuthServerUnavailableError, TokenRefusedError } from './errors';
import { displayUrl, formEncode, jsonObject, type HttpFetch } from './http';

export interface IntrospectionOptions {
	url: string;
	clientId: string;
	clientSecret: string;
	/** How this resource server authenticates at the endpoint (RFC 6749 section 2.3.1). */
	clientAuthentication: 'basic' | 'body';
	/** How long an active answer is reused, in milliseconds; 0 asks every time. */
	cacheTtlMs: number;
	/** How long an inactive answer is reused, in milliseconds (default 30 s). */
	negativeTtlMs?: number;
	/** At most this many introspection calls per second (and as a burst); default 10. */
	maxCallsPerSecond?: number;
	maxEntries?: number;
	clock?: () => number;
}

export const DEFAULT_NEGATIVE_TTL_MS = 30_000;
export const DEFAULT_MAX_INTROSPECTIONS_PER_SECOND = 10;

interface CachedAnswer {
	/** undefined: the server said the token is not active. */
	claims: Record<string, unknown> | undefined;
	until: number;
}

const inactive = () =>
	new TokenRefusedError(
		'inactive',
		'The access token is not active: the authorization server does not know it, or it expired or was revoked (introspection)',
	);

/** A token bucket on the injected clock: `perSecond` calls a second, bursts of as many. */
class CallBudget {
	private tokens: number;
	private last: number;

	constructor(
		private readonly perSecond: number,
		private readonly clock: () => number,
	) {
		this.tokens = perSecond;
		this.last = clock();
	}

	/** Takes one call; returns the seconds to wait when none is left. */
	take(): number | undefined {
		const now = this.clock();
		this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
		this.last = now;
		if (this.tokens >= 1) {
			this.tokens -= 1;
			return undefined;
		}
		return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
	}
}

/** Client id or secret in HTTP Basic, form-encoded first as RFC 6749 section 2.3.1 asks. */
export function basicCredentials(id: string, secret: string): string {
	const encode = (value: string) => formEncode({ v: value }).slice(2);
	return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export class Introspector {
	private readonly cache = new Map<string, CachedAnswer>();
	private readonly inflight = new Map<string, Promise<Record<string, unknown> | undefined>>();
	private readonly clock: () => number;
	private readonly budget: CallBudget;
	private overBudget = false;
	/** How many times the endpoint was asked (for tests and diagnostics). */
	calls = 0;

	constructor(private readonly options: IntrospectionOptions) {
		this.clock = options.clock ?? (() => Date.now());
		this.budget = new CallBudget(options.maxCallsPerSecond ?? DEFAULT_MAX_INTROSPECTIONS_PER_SECOND, this.clock);
	}

	async verify(token: string, rules: ClaimRules, http: HttpFetch): Promise<AcceptedClaims> {
		const digest = createHash('sha256').update(token).digest('base64url');
		const now = this.clock();
		const cached = this.cache.get(digest);
		let claims: Record<string, unknown> | undefined;
		if (cached && cached.until > now) {
			claims = cached.claims;
		} else {
			if (cached) this.cache.delete(digest);
			let pending = this.inflight.get(digest);
			if (!pending) {
				const wait = this.budget.take();
				if (wait !== undefined) {
					// The owner hears of it once per burst, not once per refused request.
					const detail = this.overBudget
						? undefined
						: `More than ${this.options.maxCallsPerSecond ?? DEFAULT_MAX_INTROSPECTIONS_PER_SECOND} token introspection calls a second were needed; the excess is answered 503`;
					this.overBudget = true;
					throw new AuthServerUnavailableError(
						'Too many unknown access tokens to check right now; try again shortly',
						detail,
						wait,
					);
				}
				this.overBudget = false;
				pending = this.ask(token, http).finally(() => this.inflight.delete(digest));
				this.inflight.set(digest, pending);
			}
			claims = await pending;
			this.remember(digest, claims);
		}
		if (!claims) throw inactive();
		const tokenType = claims.token_type;
		if (typeof tokenType === 'string' && !['bearer', 'access_token', 'dpop'].includes(tokenType.toLowerCase())) {
			throw new TokenRefusedError('inactive', `The token is a ${tokenType}, not an access token`);
		}
		// An active token within its lifetime, as the server saw it: exp is still checked here
		// because a cached answer can outlive it by the clock skew.
		return checkClaims(claims, { ...rules, requireExpiry: false }, this.clock());
	}

	/** The active answer's claims, or undefined for an inactive token. */
	private async ask(token: string, http: HttpFetch): Promise<Record<string, unknown> | undefined> {
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
		} catch {
			// The transport's message can repeat the URL with its credentials; it is not kept.
			throw this.unavailable('could not be reached');
		}
		if (status !== 200 || !answer || typeof answer.active !== 'boolean') {
			throw this.unavailable(
				status !== 200
					? `answered HTTP ${status}${typeof answer?.error === 'string' ? ` (${answer.error.slice(0, 100)})` : ''}`
					: 'did not answer an introspection response',
			);
		}
		if (answer.active !== true) return undefined;
		return answer;
	}

	/** 503 for the caller without the URL; the detail names the endpoint for the owner. */
	private unavailable(problem: string): AuthServerUnavailableError {
		return new AuthServerUnavailableError(
			`The token introspection endpoint ${problem}`,
			`The token introspection endpoint ${displayUrl(this.options.url)} ${problem}`,
		);
	}

	private remember(digest: string, claims: Record<string, unknown> | undefined): void {
		const now = this.clock();
		let until = now + (claims ? this.options.cacheTtlMs : (this.options.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS));
		if (typeof claims?.exp === 'number') until = Math.min(until, claims.exp * 1000);
		if (until <= now) return;
		const max = this.options.maxEntries ?? 1000;
		if (this.cache.size >= max) {
			for (const [key, entry] of this.cache) if (entry.until <= now) this.cache.delete(key);
			while (this.cache.size >= max) this.cache.delete(this.cache.keys().next().value as string);
		}
		this.cache.set(digest, { claims, until });
	}
}
