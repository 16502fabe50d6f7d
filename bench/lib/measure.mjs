/**
 * Side-by-side measurement: a package operation and its baseline run in alternating rounds
 * (A B, B A, A B, ...) in the same process, so drift (CPU frequency, page cache, a neighbour's load)
 * hits both alike. Each round runs one side for a fixed time; the figure per round is operations
 * per second. The ratio is taken per round pair (package / baseline), and the reported ratio is the
 * median of those pair ratios, with their min and max as the spread.
 */
import { performance } from 'node:perf_hooks';

export const median = (values) => {
	if (!values.length) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Runs `op(i)` (sync or async) repeatedly for `ms`; returns operations per second. */
export async function rate(op, ms, counter = { i: 0 }) {
	const start = performance.now();
	const deadline = start + ms;
	let done = 0;
	let now = start;
	// Check the clock every few operations only when operations are very fast.
	let batch = 1;
	while (now < deadline) {
		for (let k = 0; k < batch; k++) {
			const result = op(counter.i++);
			if (result && typeof result.then === 'function') await result;
		}
		done += batch;
		now = performance.now();
		if (now - start < 5 && batch < 1024) batch *= 2;
	}
	return done / ((now - start) / 1000);
}

/**
 * Alternating rounds of `pkg` and `base`. Options: `roundMs` per side per round, `rounds`, `warmupMs`
 * (each side once, not recorded), `measure(op, ms, counter)` to replace `rate` (for sides that
 * measure themselves, such as a concurrent HTTP load). Returns samples and summary.
 */
export async function compare({ pkg, base, roundMs = 500, rounds = 6, warmupMs = 300, measure = rate }) {
	const counters = { pkg: { i: 0 }, base: { i: 0 } };
	if (warmupMs > 0) {
		await measure(pkg, warmupMs, counters.pkg);
		await measure(base, warmupMs, counters.base);
	}
	const samples = { package: [], baseline: [] };
	const profiler = process.env.BENCH_CPU_PROFILE === '1' ? await startProfiler() : undefined;
	for (let r = 0; r < rounds; r++) {
		const order = r % 2 === 0 ? ['package', 'baseline'] : ['baseline', 'package'];
		for (const side of order) {
			const op = side === 'package' ? pkg : base;
			// With BENCH_CPU_PROFILE=1 the package's rounds (only) are sampled.
			if (profiler && side === 'package') await profiler.post('Profiler.start');
			samples[side].push(await measure(op, roundMs, side === 'package' ? counters.pkg : counters.base));
			if (profiler && side === 'package') profiler.profiles.push((await profiler.post('Profiler.stop')).profile);
		}
	}
	const result = summarize(samples);
	if (profiler) {
		profiler.disconnect();
		const { summarizeProfiles } = await import('./cpuprofile.mjs');
		result.cpuProfile = summarizeProfiles(profiler.profiles, { top: 25 });
	}
	return result;
}

async function startProfiler() {
	const { Session } = await import('node:inspector/promises');
	const session = new Session();
	session.connect();
	await session.post('Profiler.enable');
	await session.post('Profiler.setSamplingInterval', { interval: 200 });
	session.profiles = [];
	return session;
}

export function summarize(samples) {
	const ratios = samples.package.map((p, i) => p / samples.baseline[i]);
	return {
		package: median(samples.package),
		baseline: median(samples.baseline),
		ratio: median(ratios),
		ratioMin: Math.min(...ratios),
		ratioMax: Math.max(...ratios),
		samples: { ...samples, ratios },
	};
}

/** A row of the results table. `goal` is `{ op: '>=' | '<=', value }` on the ratio, or undefined. */
export function row({ id, part, name, unit, result, goal, note, extra }) {
	const met = goal ? (goal.op === '>=' ? result.ratio >= goal.value : result.ratio <= goal.value) : undefined;
	return { id, part, name, unit, ...result, goal, met, note, ...(extra ? { extra } : {}) };
}

export function unavailable({ id, part, name, reason }) {
	return { id, part, name, unavailable: reason };
}

/** Peak resident memory of this process so far, in MB (Linux: VmHWM; elsewhere maxRSS). */
export function peakRssMb() {
	return process.resourceUsage().maxRSS / 1024;
}

/** Small deterministic PRNG (mulberry32), so runs pick the same keys. */
export function prng(seed = 1) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
