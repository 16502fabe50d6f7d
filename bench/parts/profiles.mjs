/**
 * Part 7: search and segments over a store of 100,000 profiles (the engine methods the Profiles
 * node calls), and the Profile Change Trigger's commit-to-execution latency.
 * - 7.search: every page of a search (visits >= 500, 1,000 per page, cursor to cursor) against a
 *   bare node:sqlite paged scan with JSON.parse and the same test in plain JS, on the same file.
 * - 7.segments: defining a segment re-evaluates every profile (pages of 500, a transaction each,
 *   membership and a change feed entry written for every profile that enters or leaves); the
 *   definition alternates between `visits >= 500` and `visits < 500`, so every run moves every
 *   profile. Baseline: the same pages, test and writes in bare node:sqlite on a copy of the store.
 * - 7.latency: needs the Profile Change Trigger (issue 14); not available until it is in dist/.
 * The store is built (or copied from .cache/bench) in a separate process, so the peak memory this
 * part reports is the measurement's own; it also reports how far the heap grew during the runs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';

import { compare, row, unavailable } from '../lib/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const THRESHOLD = 500;

/** RSS now, in MB; the highest seen is kept while the package's side runs. */
function memoryWatch() {
	const start = process.memoryUsage().rss;
	let max = start;
	const timer = setInterval(() => {
		max = Math.max(max, process.memoryUsage().rss);
	}, 20);
	timer.unref();
	return {
		sample: () => {
			max = Math.max(max, process.memoryUsage().rss);
		},
		stop: () => {
			clearInterval(timer);
			return { startMb: start / 2 ** 20, peakMb: max / 2 ** 20 };
		},
	};
}

export async function run({ dist, cacheDir, profilesSize, roundMs, only }) {
	const want = (id) => !only || only.includes(id);
	const rows = [];
	const notes = [];
	const changeTrigger = join(dist, 'nodes', 'ProfileChangeTrigger', 'ProfileChangeTrigger.node.js');
	rows.push(
		unavailable({
			id: '7.latency',
			part: '7 change trigger',
			name: 'commit-to-execution latency',
			reason: existsSync(changeTrigger)
				? 'the Profile Change Trigger is in dist/ but this part is not wired to it yet'
				: 'not available yet: the Profile Change Trigger (issue 14) is not in dist/',
		}),
	);
	if (!want('7.search') && !want('7.segments')) return { rows, notes };

	const dir = mkdtempSync(join(tmpdir(), 'profile-bench-profiles-'));
	try {
		const path = join(dir, 'profiles.sqlite');
		const t0 = Date.now();
		const built = spawnSync(
			process.execPath,
			[
				'--input-type=module',
				'-e',
				`const { buildStoreCached } = await import(${JSON.stringify(join(here, '..', 'lib', 'buildStore.mjs'))});
				 const r = await buildStoreCached(${JSON.stringify(path)}, ${profilesSize}, { dist: ${JSON.stringify(dist)}, cacheDir: ${JSON.stringify(cacheDir)} });
				 console.log(JSON.stringify(r));`,
			],
			{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
		);
		if (built.status !== 0) throw new Error(`building the ${profilesSize}-profile store failed`);
		notes.push(
			`${profilesSize} profiles ${JSON.parse(built.stdout.trim().split('\n').pop()).built ? 'built with importProfiles' : 'copied from .cache/bench'} in ${((Date.now() - t0) / 1000).toFixed(1)} s (another process)`,
		);
		const { ProfileEngine } = await import(join(dist, 'lib', 'profiles', 'engine.js'));
		const { SqliteStore } = await import(join(dist, 'lib', 'store', 'sqlite', 'SqliteStore.js'));

		if (want('7.search')) {
			const engine = new ProfileEngine(new SqliteStore(path));
			const bare = new DatabaseSync(path, { readOnly: true });
			const page = bare.prepare('SELECT seq, properties FROM profiles WHERE seq > ? ORDER BY seq LIMIT ?');
			const conditions = { conditions: [{ property: 'visits', operator: 'gte', value: THRESHOLD }] };
			let found = { package: 0, baseline: 0 };
			const memory = memoryWatch();
			const result = await compare({
				// One op = the whole search, every page (1,000 matches each), as the Profiles node pages it.
				pkg: async () => {
					let cursor;
					let n = 0;
					do {
						const result = await engine.search({ conditions, limit: 1000, cursor });
						n += result.profiles.length;
						cursor = result.nextCursor;
						memory.sample();
					} while (cursor);
					found.package = n;
				},
				base: () => {
					let after = 0;
					let n = 0;
					for (;;) {
						const rowsOfPage = page.all(after, 1000);
						for (const r of rowsOfPage) {
							const properties = JSON.parse(r.properties);
							if ((properties.visits ?? []).some((v) => Number(v) >= THRESHOLD)) n++;
							after = r.seq;
						}
						if (rowsOfPage.length < 1000) break;
					}
					found.baseline = n;
				},
				roundMs: Math.min(roundMs, 200),
				rounds: 4,
				warmupMs: 0,
			});
			const heap = memory.stop();
			if (found.package !== found.baseline) throw new Error(`7.search: the engine found ${found.package}, the bare scan ${found.baseline}`);
			bare.close();
			await engine.close();
			rows.push(
				row({
					id: '7.search',
					part: '7 search',
					name: `full paged search (visits >= ${THRESHOLD}: ${found.package} matches) over ${profilesSize} profiles vs bare paged scan + JSON.parse`,
					unit: 'searches/s',
					result,
					note: `RSS while searching: ${heap.startMb.toFixed(0)} -> peak ${heap.peakMb.toFixed(0)} MB (flat when paging works)`,
					extra: { rssStartMb: heap.startMb, rssPeakMb: heap.peakMb, profilesScannedPerSecond: result.package * profilesSize },
				}),
			);
		}

		if (want('7.segments')) {
			const barePath = join(dir, 'bare.sqlite');
			copyFileSync(path, barePath);
			const engine = new ProfileEngine(new SqliteStore(path));
			const bare = new DatabaseSync(barePath);
			for (const pragma of ['busy_timeout = 1000', 'journal_mode = WAL', 'synchronous = FULL', 'secure_delete = ON']) bare.exec(`PRAGMA ${pragma}`);
			const scan = bare.prepare('SELECT seq, id, properties FROM profiles WHERE seq > ? ORDER BY seq LIMIT ?');
			const update = bare.prepare('UPDATE profiles SET properties = ?, updated_at = ? WHERE seq = ?');
			const feed = bare.prepare('INSERT INTO change_feed (profile_id, entry) VALUES (?, ?)');
			const condition = (k) => ({ conditions: [{ property: 'visits', operator: k % 2 ? 'lt' : 'gte', value: THRESHOLD }] });
			const bareReevaluate = (k) => {
				const inside = (properties) => (properties.visits ?? []).some((v) => (k % 2 ? Number(v) < THRESHOLD : Number(v) >= THRESHOLD));
				let after = 0;
				for (;;) {
					bare.exec('BEGIN IMMEDIATE');
					const rowsOfPage = scan.all(after, 500);
					const now = new Date().toISOString();
					for (const r of rowsOfPage) {
						after = r.seq;
						const properties = JSON.parse(r.properties);
						const before = properties.segments ?? [];
						const member = before.includes('bench');
						if (member === inside(properties)) continue;
						properties.segments = member ? before.filter((s) => s !== 'bench') : [...before, 'bench'];
						update.run(JSON.stringify(properties), now, r.seq);
						feed.run(
							r.id,
							JSON.stringify({
								profileId: r.id,
								changes: { segments: { mode: 'set', before, after: properties.segments } },
								segmentsEntered: member ? [] : ['bench'],
								segmentsLeft: member ? ['bench'] : [],
								source: 'segment:bench',
								at: now,
							}),
						);
					}
					bare.exec('COMMIT');
					if (rowsOfPage.length < 500) break;
				}
			};
			const memory = memoryWatch();
			let moved = 0;
			const result = await compare({
				// One op = one whole re-evaluation; every op moves every profile in or out.
				pkg: async (k) => {
					const progress = await engine.defineSegment({ name: 'bench', conditions: condition(k) }, () => memory.sample());
					moved = progress.entered + progress.left;
				},
				base: (k) => bareReevaluate(k),
				roundMs: Math.min(roundMs, 100),
				rounds: 2, // each op is a whole re-evaluation (seconds); two pairs keep the part under a minute
				warmupMs: 0,
			});
			const heap = memory.stop();
			bare.close();
			await engine.close();
			rows.push(
				row({
					id: '7.segments',
					part: '7 segments',
					name: `segment re-evaluation over ${profilesSize} profiles (${moved} move each run) vs bare node:sqlite pages`,
					unit: 're-evaluations/s',
					result,
					note: `RSS while re-evaluating: ${heap.startMb.toFixed(0)} -> peak ${heap.peakMb.toFixed(0)} MB`,
					extra: { rssStartMb: heap.startMb, rssPeakMb: heap.peakMb },
				}),
			);
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	return { rows, notes };
}
