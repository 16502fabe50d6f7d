// The Profiles node's store-wide work as the store grows: search (a condition matching ~1%, paged
// through the whole store) and segment re-evaluation (defineSegment over every profile), with wall
// time and peak RSS. It drives the built engine (dist/lib) directly, without n8n.
//
// Each phase runs in a child process of its own, so the peak memory it reports is that phase's
// alone: one child builds the store (engine.importProfiles), one searches, one defines a segment.
// The same phases run on a store a tenth the size first, as the baseline the ratios are against:
// memory flat means the peak RSS ratio stays near 1 while the store grows tenfold.
//
//   const { runProfilesBench } = require('./profiles');
//   const figures = await runProfilesBench({ profiles: 100000 });
//
// Requiring this file does nothing; `node bench/profiles.js [profiles]` runs it and prints JSON.
'use strict';

const { execFile } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const DIST = join(__dirname, '..', 'dist', 'lib');

/** ~1% of the profiles match: score is i, so `score % 100 === 0` is the condition `bucket = hot`. */
const HOT = { combinator: 'and', conditions: [{ property: 'bucket', operator: 'equals', value: 'hot' }] };

function profileAt(i) {
	return {
		properties: {
			email: [`bench-${i}@example.test`],
			firstname: [`Name ${i}`],
			score: [i],
			city: [['Rome', 'Paris', 'Oslo', 'Lima'][i % 4]],
			bucket: [i % 100 === 0 ? 'hot' : 'cold'],
			tags: ['bench', `t${i % 7}`],
		},
	};
}

/**
 * In the child: one phase on the store at `path`; the result goes back as one line of JSON. With
 * `--expose-gc` (the `live` runs) it also collects garbage after every page and keeps the largest
 * heap still in use: what the phase holds, apart from garbage V8 has not collected yet. Those runs
 * are slower and are not the timed ones.
 */
async function child(phase, path, profiles) {
	const live = typeof global.gc === 'function';
	let liveHeap = 0;
	const sample = () => {
		if (!live) return;
		global.gc();
		liveHeap = Math.max(liveHeap, process.memoryUsage().heapUsed);
	};
	const { performance } = require('node:perf_hooks');
	const { ProfileEngine } = require(join(DIST, 'profiles', 'engine'));
	const { SqliteStore } = require(join(DIST, 'store', 'sqlite', 'SqliteStore'));
	const engine = new ProfileEngine(new SqliteStore(path));
	const started = performance.now();
	const result = {};
	if (phase === 'import') {
		function* inputs() {
			for (let i = 0; i < profiles; i++) yield profileAt(i);
		}
		result.written = await engine.importProfiles(inputs());
	} else if (phase === 'search') {
		let cursor;
		let pages = 0;
		let matched = 0;
		let scanned = 0;
		do {
			const page = await engine.search({ conditions: HOT, limit: 100, cursor });
			sample();
			pages++;
			matched += page.profiles.length;
			scanned += page.scanned;
			cursor = page.nextCursor;
		} while (cursor);
		Object.assign(result, { pages, matched, scanned });
	} else if (phase === 'segment') {
		let reports = 0;
		const progress = await engine.defineSegment({ name: 'Hot', description: 'bench', conditions: HOT }, () => {
			reports++;
			sample();
		});
		Object.assign(result, progress, { progressReports: reports });
	} else {
		throw new Error(`unknown phase ${phase}`);
	}
	const ms = Math.round(performance.now() - started);
	await engine.close();
	if (live) {
		result.liveHeapMb = mb(liveHeap);
	} else {
		result.ms = ms;
		result.peakRssMb = mb(process.resourceUsage().maxRSS * 1024);
	}
	process.stdout.write(`${JSON.stringify(result)}\n`);
}

const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function runChild(phase, path, profiles, { live = false, flags = [] } = {}) {
	return new Promise((resolve, reject) => {
		execFile(
			process.execPath,
			[...(live ? ['--expose-gc'] : []), ...flags, __filename, '--child', phase, path, String(profiles)],
			{ maxBuffer: 1 << 20 },
			(error, stdout, stderr) => {
				if (error) return reject(new Error(`${phase} child failed: ${stderr || error.message}`));
				resolve(JSON.parse(stdout.trim().split('\n').pop()));
			},
		);
	});
}

async function measure(profiles) {
	const dir = mkdtempSync(join(tmpdir(), 'profiles-bench-'));
	try {
		const path = join(dir, 'profiles.sqlite');
		const built = await runChild('import', path, profiles);
		const search = await runChild('search', path, profiles);
		const segment = await runChild('segment', path, profiles);
		// The live-heap runs come after the timed ones; the segment run finds the definition stored and
		// re-evaluates everything again (nobody enters or leaves: the same work of reading every page).
		search.liveHeapMb = (await runChild('search', path, profiles, { live: true })).liveHeapMb;
		segment.liveHeapMb = (await runChild('segment', path, profiles, { live: true })).liveHeapMb;
		// The same work with V8's heap capped far below the store's size: it completes (or the bench
		// fails with the child's out-of-memory error), and its peak RSS is what the work needs when V8
		// may not defer collecting garbage.
		const capped = { flags: [`--max-old-space-size=${CAPPED_HEAP_MB}`, '--max-semi-space-size=1'] };
		search.cappedHeapPeakRssMb = (await runChild('search', path, profiles, capped)).peakRssMb;
		segment.cappedHeapPeakRssMb = (await runChild('segment', path, profiles, capped)).peakRssMb;
		return { profiles, import: built, search, segment };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/** Old-space limit of the capped runs (MB). */
const CAPPED_HEAP_MB = 16;

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/**
 * Figures as plain numbers: for `profiles` and for a baseline a tenth the size, the wall time (ms),
 * peak RSS (MB), largest live heap after GC (MB) and peak RSS with V8's heap capped at 16 MB, of
 * search and segment re-evaluation, and the large-to-baseline ratios.
 */
async function runProfilesBench({ profiles = 100000, baseline = Math.max(1000, Math.round(profiles / 10)) } = {}) {
	const small = await measure(baseline);
	const large = await measure(profiles);
	return {
		node: process.version,
		cappedHeapMb: CAPPED_HEAP_MB,
		baseline: small,
		measured: large,
		ratios: {
			profiles: ratio(large.profiles, small.profiles),
			searchMs: ratio(large.search.ms, small.search.ms),
			searchPeakRss: ratio(large.search.peakRssMb, small.search.peakRssMb),
			segmentMs: ratio(large.segment.ms, small.segment.ms),
			segmentPeakRss: ratio(large.segment.peakRssMb, small.segment.peakRssMb),
			searchLiveHeap: ratio(large.search.liveHeapMb, small.search.liveHeapMb),
			segmentLiveHeap: ratio(large.segment.liveHeapMb, small.segment.liveHeapMb),
			searchCappedPeakRss: ratio(large.search.cappedHeapPeakRssMb, small.search.cappedHeapPeakRssMb),
			segmentCappedPeakRss: ratio(large.segment.cappedHeapPeakRssMb, small.segment.cappedHeapPeakRssMb),
		},
	};
}

module.exports = { runProfilesBench };

if (require.main === module) {
	const args = process.argv.slice(2);
	if (args[0] === '--child') {
		child(args[1], args[2], Number(args[3])).catch((error) => {
			process.stderr.write(`${error.stack}\n`);
			process.exit(1);
		});
	} else {
		runProfilesBench({ profiles: Number(args[0] ?? 100000) }).then(
			(figures) => process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`),
			(error) => {
				process.stderr.write(`${error.stack}\n`);
				process.exit(1);
			},
		);
	}
}
