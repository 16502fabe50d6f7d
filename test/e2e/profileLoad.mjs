/**
 * Concurrent profile updates through a Profile Webhook Trigger (`sum` on `total`, `add` on
 * `requests`), and the check that every acknowledged update is in the store exactly once.
 *
 * Each request carries a unique requestId and an integer amount. A profile's `requests` then lists
 * every update applied to it (add keeps one copy of each id), so an update is "found" when its id
 * is there, and "applied once" when the profile's total equals the sum of the amounts of the ids
 * it lists (an update applied twice would add its amount twice but its id once).
 */

/** A deterministic sequence of requests: `count` updates spread over `profiles` e-mail addresses. */
export function planUpdates({ label, count, profiles, seed = 1 }) {
	let state = seed >>> 0 || 1;
	const random = () => {
		// xorshift32: reproducible without a dependency
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		return (state >>> 0) / 2 ** 32;
	};
	return Array.from({ length: count }, (_, i) => ({
		email: `${label}-${Math.floor(random() * profiles)}@example.com`,
		requestId: `${label}-r${i}`,
		amount: 1 + Math.floor(random() * 100),
	}));
}

/**
 * Sends every update, `concurrency` at a time, round-robin over `baseUrls` (the webhook processes).
 * Returns the outcome of each and the wall time.
 */
export async function sendUpdates({ baseUrls, path, updates, concurrency, timeoutMs = 120_000, onProgress }) {
	const outcomes = new Array(updates.length);
	let next = 0;
	let done = 0;
	const started = performance.now();
	const worker = async () => {
		for (;;) {
			const i = next++;
			if (i >= updates.length) return;
			const u = updates[i];
			const base = baseUrls[i % baseUrls.length];
			const url = `${base}/webhook/${path}?property=email&email=${encodeURIComponent(u.email)}`;
			const t = performance.now();
			try {
				const response = await fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ amount: u.amount, requestId: u.requestId }),
					signal: AbortSignal.timeout(timeoutMs),
				});
				const text = await response.text();
				let json;
				try {
					json = JSON.parse(text);
				} catch {
					json = undefined;
				}
				outcomes[i] = { status: response.status, state: json?.state, text: json ? undefined : text.slice(0, 200), ms: performance.now() - t, base };
			} catch (error) {
				outcomes[i] = { status: 0, error: error.name === 'TimeoutError' ? 'timeout' : error.message, ms: performance.now() - t, base };
			}
			done++;
			onProgress?.(done, outcomes[i]);
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	return { outcomes, ms: performance.now() - started };
}

export const acknowledged = (outcome) => outcome.status === 200 && (outcome.state === 'CREATED' || outcome.state === 'MODIFIED');

/**
 * Compares what was sent and acknowledged with the stored profiles (email -> properties).
 * Returns counts and the problems found (empty when every acknowledged update is there once).
 */
export function verifyUpdates(updates, outcomes, storedByEmail) {
	const problems = [];
	const amountOf = new Map(updates.map((u) => [u.requestId, u.amount]));
	let acked = 0;
	let found = 0;
	for (let i = 0; i < updates.length; i++) {
		const u = updates[i];
		if (!acknowledged(outcomes[i])) continue;
		acked++;
		const stored = storedByEmail.get(u.email);
		if (stored?.requests?.includes(u.requestId)) found++;
		else problems.push(`acknowledged ${u.requestId} (${u.email}) is not in the store`);
	}
	let appliedOnce = 0;
	let profiles = 0;
	for (const [email, properties] of storedByEmail) {
		if (!updates.some((u) => u.email === email)) continue;
		profiles++;
		const ids = properties.requests ?? [];
		if (new Set(ids).size !== ids.length) problems.push(`${email}: a request id is listed twice`);
		const expected = ids.reduce((sum, id) => sum + (amountOf.get(id) ?? NaN), 0);
		const total = Number(properties.total?.[0]);
		if (total !== expected) problems.push(`${email}: total ${total}, but its ${ids.length} applied updates sum to ${expected}`);
		else appliedOnce += ids.length;
	}
	return { sent: updates.length, acknowledged: acked, found, appliedOnce, profiles, problems };
}

/** Status counts and latency percentiles of a run. */
export function summarize(outcomes, ms) {
	const byStatus = {};
	for (const o of outcomes) {
		const key = o.status === 0 ? `error:${o.error}` : String(o.status);
		byStatus[key] = (byStatus[key] ?? 0) + 1;
	}
	const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);
	const pct = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]);
	const acked = outcomes.filter(acknowledged).length;
	return {
		requests: outcomes.length,
		byStatus,
		seconds: Number((ms / 1000).toFixed(2)),
		acknowledgedPerSecond: Number((acked / (ms / 1000)).toFixed(1)),
		p50ms: pct(50),
		p99ms: pct(99),
	};
}
