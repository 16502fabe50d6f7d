/**
 * A JSON Web Key Set fetched from a URL and kept. Key selection and import (kid, alg, kty, curve,
 * use, key_ops, public keys only) are jose's `createLocalJWKSet`; this file only decides *when*
 * to fetch: on first use, again when the set is older than `maxAgeMs`, and again when a token
 * names a key the set lacks (a rotation), never more often than once per `cooldownMs`.
 *
 * Why not jose's `createRemoteJWKSet`: it reads `Date.now()` (the trigger's injected clock could
 * not drive it), it retries a failed first fetch on every request (an unreachable JWKS would be
 * asked once per incoming request), and once `cacheMaxAge` has passed a failed refresh drops the
 * keys it held (every request 503 during a short outage). Here a failed fetch also starts the
 * cooldown, and a failed refresh keeps the keys already held. Requests go through the injected
 * HttpFetch (n8n's httpRequest helper: proxies, SSRF rules), which jose's fetch would bypass.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';

import { AuthServerUnavailableError } from './errors';
import { displayUrl, jsonObject, type HttpFetch } from './http';

export interface JwksOptions {
	url: string;
	/** The shortest time between two fetches (default 30 s). */
	cooldownMs?: number;
	/** How long fetched keys are used before the next request fetches them again (default 10 min). */
	maxAgeMs?: number;
	clock?: () => number;
}

export interface HeldKeys {
	/** jose's key selection over the set. */
	getKey: JWTVerifyGetKey;
	/** The set's entries, for telling "no such kid" from "that kid cannot do this algorithm". */
	entries: readonly JWK[];
}

export class JwksCache {
	readonly url: string;
	private readonly cooldownMs: number;
	private readonly maxAgeMs: number;
	private readonly clock: () => number;
	private held: HeldKeys | undefined;
	private fetchedAt = Number.NEGATIVE_INFINITY;
	private attemptedAt = Number.NEGATIVE_INFINITY;
	private lastProblem = '';
	private inflight: Promise<void> | undefined;
	/** How many times the set was requested (for tests and diagnostics). */
	fetches = 0;

	constructor(options: JwksOptions) {
		this.url = options.url;
		this.cooldownMs = options.cooldownMs ?? 30_000;
		this.maxAgeMs = options.maxAgeMs ?? 600_000;
		this.clock = options.clock ?? (() => Date.now());
	}

	private coolingDown(): boolean {
		return this.clock() - this.attemptedAt < this.cooldownMs;
	}

	/**
	 * The keys to verify with: fetched when none are held or they are too old (within the cooldown
	 * only when a fetch is already under way). Throws AuthServerUnavailableError when no set could
	 * be had at all; its message names no URL (callers are not authenticated), its detail names
	 * the host and path for the workflow's owner, never credentials or the query.
	 */
	async keys(http: HttpFetch): Promise<HeldKeys> {
		if (!this.held || this.clock() - this.fetchedAt >= this.maxAgeMs) {
			if (!this.coolingDown() || this.inflight) await this.refresh(http);
		}
		if (!this.held) {
			throw new AuthServerUnavailableError(
				`The signing keys could not be fetched (the JWKS ${this.lastProblem}); try again shortly`,
				`The JWKS at ${displayUrl(this.url)} ${this.lastProblem}`,
			);
		}
		return this.held;
	}

	/**
	 * After a token named a key the set lacks: fetch again unless within the cooldown. True when a
	 * new set was fetched (the caller tries once more).
	 */
	async refreshForUnknownKey(http: HttpFetch): Promise<boolean> {
		if (this.coolingDown() && !this.inflight) return false;
		const before = this.held;
		await this.refresh(http);
		return this.held !== before;
	}

	private async refresh(http: HttpFetch): Promise<void> {
		this.inflight ??= this.fetchKeys(http).finally(() => {
			this.inflight = undefined;
		});
		return await this.inflight;
	}

	private async fetchKeys(http: HttpFetch): Promise<void> {
		this.attemptedAt = this.clock();
		this.fetches += 1;
		let problem = '';
		let held: HeldKeys | undefined;
		try {
			const response = await http({
				method: 'GET',
				url: this.url,
				headers: { accept: 'application/jwk-set+json, application/json' },
			});
			const set = jsonObject(response.body);
			if (response.status !== 200) problem = `answered HTTP ${response.status}`;
			else if (!set || !Array.isArray(set.keys)) problem = 'did not answer a JSON Web Key Set';
			else {
				const keys = (set.keys as unknown[]).filter(
					(k): k is JWK => k !== null && typeof k === 'object' && !Array.isArray(k),
				);
				held = { getKey: createLocalJWKSet({ keys } as JSONWebKeySet), entries: keys };
			}
		} catch {
			// The transport's message can repeat the URL with its credentials; it is not kept.
			problem = 'could not be reached';
		}
		if (held) {
			this.held = held;
			this.fetchedAt = this.clock();
			return;
		}
		this.lastProblem = problem;
		// A failed refresh keeps the keys held so far; the cooldown stops a retry per request.
		if (!this.held) {
			throw new AuthServerUnavailableError(
				`The JWKS ${problem}`,
				`The JWKS at ${displayUrl(this.url)} ${problem}`,
			);
		}
	}
}
