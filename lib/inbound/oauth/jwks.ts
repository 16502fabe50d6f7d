/**
 * A JSON Web Key Set fetched from a URL and kept: fetched on first use, again when it is older
 * than `maxAgeMs`, and again when a token names a key id it does not hold (a key rotation), but
 * never more often than once per `cooldownMs`, whatever tokens arrive. Concurrent requests share
 * one fetch. When a refresh fails, the keys already held stay in use.
 */
import type { KeyObject } from 'node:crypto';

import { AuthServerUnavailableError } from './errors';
import { jsonObject, type HttpFetch } from './http';
import { keyFitsAlgorithm, publicKeyFromJwk, type JwsAlgorithm, type PublicJwk } from './jws';

export interface JwksOptions {
	url: string;
	/** The shortest time between two fetches (default 30 s). */
	cooldownMs?: number;
	/** How long fetched keys are used before the next request fetches them again (default 10 min). */
	maxAgeMs?: number;
	clock?: () => number;
}

interface HeldKey {
	kid?: string;
	alg?: string;
	key: KeyObject;
}

export type KeyLookup =
	| { found: KeyObject[] }
	| { unknownKid: string }
	| { noKeyFor: JwsAlgorithm }
	| { kidWrongType: string };

export class JwksCache {
	readonly url: string;
	private readonly cooldownMs: number;
	private readonly maxAgeMs: number;
	private readonly clock: () => number;
	private keys: HeldKey[] | undefined;
	private fetchedAt = Number.NEGATIVE_INFINITY;
	private attemptedAt = Number.NEGATIVE_INFINITY;
	private inflight: Promise<void> | undefined;
	/** How many times the set was requested (for tests and diagnostics). */
	fetches = 0;

	constructor(options: JwksOptions) {
		this.url = options.url;
		this.cooldownMs = options.cooldownMs ?? 30_000;
		this.maxAgeMs = options.maxAgeMs ?? 600_000;
		this.clock = options.clock ?? Date.now;
	}

	/**
	 * The keys that may verify a token with this `kid` (or none given) and algorithm. Throws
	 * AuthServerUnavailableError when no key set could be fetched at all.
	 */
	async lookup(kid: string | undefined, alg: JwsAlgorithm, http: HttpFetch): Promise<KeyLookup> {
		const coolingDown = () => this.clock() - this.attemptedAt < this.cooldownMs;
		if (!this.keys || this.clock() - this.fetchedAt >= this.maxAgeMs) {
			if (!coolingDown() || this.inflight) await this.refresh(http);
			if (!this.keys) {
				throw new AuthServerUnavailableError(
					`The signing keys could not be fetched from ${this.url}; try again shortly`,
				);
			}
		}
		let result = this.find(kid, alg);
		if (('unknownKid' in result || 'noKeyFor' in result) && (!coolingDown() || this.inflight)) {
			await this.refresh(http);
			result = this.find(kid, alg);
		}
		return result;
	}

	private find(kid: string | undefined, alg: JwsAlgorithm): KeyLookup {
		const keys = this.keys ?? [];
		if (kid !== undefined) {
			const named = keys.filter((k) => k.kid === kid);
			if (!named.length) return { unknownKid: kid };
			const fitting = named.filter((k) => fits(k, alg));
			return fitting.length ? { found: fitting.map((k) => k.key) } : { kidWrongType: kid };
		}
		const fitting = keys.filter((k) => fits(k, alg));
		return fitting.length ? { found: fitting.map((k) => k.key) } : { noKeyFor: alg };
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
		let keys: HeldKey[] | undefined;
		let problem: string;
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
				problem = '';
				keys = (set.keys as unknown[]).flatMap((entry) => {
					if (entry === null || typeof entry !== 'object') return [];
					const jwk = entry as PublicJwk;
					const key = publicKeyFromJwk(jwk);
					if (!key) return [];
					return [
						{
							key,
							...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}),
							...(typeof jwk.alg === 'string' ? { alg: jwk.alg } : {}),
						},
					];
				});
			}
		} catch (error) {
			problem = `could not be reached (${(error as Error).message})`;
		}
		if (keys) {
			this.keys = keys;
			this.fetchedAt = this.clock();
		} else if (!this.keys) {
			throw new AuthServerUnavailableError(`The JWKS at ${this.url} ${problem}`);
		}
		// A failed refresh keeps the keys held so far; the cooldown stops a retry per request.
	}
}

function fits(held: HeldKey, alg: JwsAlgorithm): boolean {
	return (held.alg === undefined || held.alg === alg) && keyFitsAlgorithm(held.key, alg);
}
