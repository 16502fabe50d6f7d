// Commit-to-emit latency of the Profile Change Trigger's consumer (lib/changes), in process, over
// the built package (dist/lib) and a real SQLite store: a writer commits `changes` profile changes
// at irregular moments, the consumer (default poll interval) reads the change feed, reads each
// profile and makes the trigger's item, exactly as the node does before `emit()`. The figure is the
// time from the moment a write returned (committed, durable) to that item being handed on.
//
// Side-effect free on import; `node bench/changeTrigger.js [changes]` runs it alone.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');

const dist = join(__dirname, '..', 'dist', 'lib');

function percentile(sorted, p) {
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * @param {{ changes?: number, pollIntervalMs?: number, maxGapMs?: number }} [options]
 * @returns {Promise<{ changes: number, delivered: number, pollIntervalMs: number, p50: number, p95: number, max: number, mean: number }>}
 *   latencies in ms
 */
async function runChangeTriggerBench({ changes = 200, pollIntervalMs = 250, maxGapMs = 100 } = {}) {
	const { ProfileEngine } = require(join(dist, 'profiles', 'engine'));
	const { SqliteStore } = require(join(dist, 'store', 'sqlite', 'SqliteStore'));
	const { ChangeConsumer } = require(join(dist, 'changes', 'changeConsumer'));
	const { compileChangeFilter } = require(join(dist, 'changes', 'changeFilter'));
	const { changeItem } = require(join(dist, 'changes', 'changeItem'));

	const dir = mkdtempSync(join(tmpdir(), 'change-trigger-bench-'));
	const engine = new ProfileEngine(new SqliteStore(join(dir, 'profiles.sqlite')));
	const committedAt = new Map();
	const emittedAt = new Map();
	let allDelivered;
	const done = new Promise((resolve) => (allDelivered = resolve));
	const consumer = new ChangeConsumer({
		feed: engine,
		consumerId: 'bench:changeTrigger',
		matches: compileChangeFilter({ triggerOn: ['propertyChange'], properties: ['tier'] }),
		pollIntervalMs,
		deliver: async (entry) => {
			const profile = await engine.get(entry.profileId);
			if (!profile) return undefined;
			const item = changeItem(entry, profile);
			emittedAt.set(item.changes.tier.after[0], performance.now());
			if (emittedAt.size === changes) allDelivered();
			return { settled: Promise.resolve() };
		},
	});
	try {
		await consumer.start();
		for (let i = 0; i < changes; i++) {
			// Irregular gaps, so commits land at every phase of the poll interval.
			await new Promise((resolve) => setTimeout(resolve, Math.random() * maxGapMs));
			const tier = `t${i}`;
			await engine.applyByIdentifier({
				identifier: { property: 'email', value: `bench${i % 50}@example.test` },
				create: true,
				imports: [{ property: 'tier', mode: 'set', values: [tier] }],
				source: 'bench',
			});
			committedAt.set(tier, performance.now());
		}
		await done;
	} finally {
		await consumer.stop();
		await engine.close();
		rmSync(dir, { recursive: true, force: true });
	}
	// A change read in the same tick as its commit returned counts as 0.
	const latencies = [...committedAt].map(([tier, at]) => Math.max(0, emittedAt.get(tier) - at)).sort((a, b) => a - b);
	const round = (n) => Math.round(n * 10) / 10;
	return {
		changes,
		delivered: emittedAt.size,
		pollIntervalMs,
		p50: round(percentile(latencies, 50)),
		p95: round(percentile(latencies, 95)),
		max: round(latencies[latencies.length - 1]),
		mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
	};
}

module.exports = { runChangeTriggerBench };

if (require.main === module) {
	const changes = Number(process.argv[2] ?? 200);
	runChangeTriggerBench({ changes }).then(
		(result) => {
			console.log(
				`Profile Change Trigger, commit -> emit (in process, SQLite, poll ${result.pollIntervalMs} ms): ` +
					`${result.delivered}/${result.changes} changes, p50 ${result.p50} ms, p95 ${result.p95} ms, max ${result.max} ms, mean ${result.mean} ms`,
			);
		},
		(error) => {
			console.error(error);
			process.exitCode = 1;
		},
	);
}
