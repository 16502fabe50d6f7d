/**
 * Part 7: search and segments over a store of 100,000 profiles (the engine methods the Profiles
 * node calls), and the Profile Change Trigger's commit-to-execution latency.
 * - 7.search: every page of a search (visits >= 500, 1,000 per page, cursor to cursor) against a
 *   bare node:sqlite paged scan with JSON.parse and the same test in plain JS, on the same file.
 * - 7.nodesearch: the Profiles node's search (Return All) in a real ExecuteContext, the same search,
 *   against the bare scan collecting the matches; the note gives the RSS (every item is held).
 * - 7.segments: defining a segment re-evaluates every profile (pages of 500, a transaction each,
 *   membership and a change feed entry written for every profile that enters or leaves); the
 *   definition alternates between `visits >= 500` and `visits < 500`, so every run moves every
 *   profile. Baseline: the same pages, test and writes in bare node:sqlite on a copy of the store.
 * - 7.latency: write-to-emit latency of the Profile Change Trigger in a real TriggerContext, against
 *   a bare commit followed by an in-process notification (see latencyRow).
 * The store is built (or copied from .cache/bench) in a separate process, so the peak memory this
 * part reports is the measurement's own; it also reports how far the heap grew during the runs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';

import { EventEmitter } from 'node:events';

import { seedEmail, seedProfiles } from '../lib/buildStore.mjs';
import { compare, median, row, unavailable } from '../lib/measure.mjs';
import { loadN8nTestHelpers, requireFromRepo } from '../lib/n8nContext.mjs';

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
	if (want('7.latency')) {
		rows.push(
			existsSync(changeTrigger)
				? await latencyRow({ dist, changeTrigger, rounds: Math.max(4, Math.min(8, Math.round(roundMs / 50))) })
				: unavailable({
						id: '7.latency',
						part: '7 change trigger',
						name: 'commit-to-execution latency',
						reason: 'not available yet: the Profile Change Trigger (issue 14) is not in dist/',
					}),
		);
	}
	if (!want('7.search') && !want('7.nodesearch') && !want('7.segments')) return { rows, notes };

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

		const profilesNode = join(dist, 'nodes', 'Profiles', 'Profiles.node.js');
		if (want('7.nodesearch') && existsSync(profilesNode)) {
			// The Profiles node's search (Return All) in a real ExecuteContext, on a copy of the store
			// where the node finds it (the registry's file in the n8n user folder).
			const home = mkdtempSync(join(dir, 'home-'));
			const previousFolder = process.env.N8N_USER_FOLDER;
			process.env.N8N_USER_FOLDER = home;
			const { closeProfileStores, n8nUserFolder } = requireFromRepo(join(dist, 'lib', 'store', 'registry.js'));
			const { defaultStorePath } = requireFromRepo(join(dist, 'lib', 'store', 'sqlite', 'SqliteStore.js'));
			const nodeStore = defaultStorePath(n8nUserFolder());
			mkdirSync(dirname(nodeStore), { recursive: true });
			copyFileSync(path, nodeStore);
			const { Profiles } = requireFromRepo(profilesNode);
			const { runExecuteNode } = loadN8nTestHelpers();
			const bare = new DatabaseSync(path, { readOnly: true });
			const page = bare.prepare('SELECT seq, properties FROM profiles WHERE seq > ? ORDER BY seq LIMIT ?');
			const conditions = {
				options: { caseSensitive: true, leftValue: '', typeValidation: 'loose', version: 2 },
				combinator: 'and',
				conditions: [{ id: 'c1', leftValue: 'visits', rightValue: THRESHOLD, operator: { type: 'number', operation: 'gte' } }],
			};
			const found = { package: 0, baseline: 0 };
			const memory = memoryWatch();
			try {
				const result = await compare({
					pkg: async () => {
						const { outputs } = await runExecuteNode({
							nodeType: new Profiles(),
							parameters: { resource: 'profile', operation: 'search', conditions, returnAll: true },
							items: [{ json: {} }],
							mode: 'trigger',
						});
						memory.sample();
						found.package = outputs[0].length;
					},
					base: () => {
						const out = [];
						let after = 0;
						for (;;) {
							const rowsOfPage = page.all(after, 1000);
							for (const r of rowsOfPage) {
								const properties = JSON.parse(r.properties);
								if ((properties.visits ?? []).some((v) => Number(v) >= THRESHOLD)) out.push(properties);
								after = r.seq;
							}
							if (rowsOfPage.length < 1000) break;
						}
						found.baseline = out.length;
					},
					roundMs: Math.min(roundMs, 100),
					rounds: 3,
					warmupMs: 0,
				});
				const heap = memory.stop();
				if (found.package !== found.baseline) throw new Error(`7.nodesearch: the node returned ${found.package} items, the bare scan found ${found.baseline}`);
				rows.push(
					row({
						id: '7.nodesearch',
						part: '7 Profiles node search',
						name: `Profiles node search, Return All (${found.package} items) over ${profilesSize} profiles, real ExecuteContext, vs bare paged scan collecting the matches`,
						unit: 'searches/s',
						result,
						note: `RSS while the node searched: ${heap.startMb.toFixed(0)} -> peak ${heap.peakMb.toFixed(0)} MB (Return All holds every matching item)`,
						extra: { rssStartMb: heap.startMb, rssPeakMb: heap.peakMb },
					}),
				);
			} finally {
				bare.close();
				await closeProfileStores();
				if (previousFolder === undefined) delete process.env.N8N_USER_FOLDER;
				else process.env.N8N_USER_FOLDER = previousFolder;
			}
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

/**
 * 7.latency: from the start of a write to the Profile Change Trigger's emit, the trigger active in
 * n8n-core's real TriggerContext (test/helpers/n8n.ts) over the engine the nodes share, with its
 * default poll interval (250 ms; a commit wakes it in the same process). Baseline: the least a
 * same-process change feed can do, a bare node:sqlite transaction (profile row and feed row, same
 * pragmas) followed by an in-process notification whose listener reads the feed row back.
 * Alternating rounds of 25 writes each; the ratio is baseline latency / package latency.
 */
async function latencyRow({ dist, changeTrigger, rounds }) {
	const home = mkdtempSync(join(tmpdir(), 'profile-bench-latency-'));
	const previousFolder = process.env.N8N_USER_FOLDER;
	process.env.N8N_USER_FOLDER = home;
	const { getProfileEngine, closeProfileStores } = requireFromRepo(join(dist, 'lib', 'store', 'registry.js'));
	const { ProfileChangeTrigger } = requireFromRepo(changeTrigger);
	const { activateTriggerNode } = loadN8nTestHelpers();
	const engine = getProfileEngine();
	await engine.ensureIndexed(['email']);
	await engine.importProfiles(seedProfiles(1000));
	const trigger = await activateTriggerNode({
		nodeType: new ProfileChangeTrigger(),
		parameters: { triggerOn: ['propertyChange'], properties: 'tier' },
		workflowId: 'wf-bench-latency',
		nodeId: 'bench-latency',
	});
	let delivered;
	const push = trigger.emits.push.bind(trigger.emits);
	trigger.emits.push = (...entries) => {
		const n = push(...entries);
		delivered?.();
		return n;
	};

	const bare = new DatabaseSync(join(home, 'bare.sqlite'));
	for (const pragma of ['busy_timeout = 1000', 'journal_mode = WAL', 'synchronous = FULL', 'secure_delete = ON']) bare.exec(`PRAGMA ${pragma}`);
	bare.exec(`CREATE TABLE profiles (seq INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, doc TEXT NOT NULL) STRICT;
		CREATE TABLE feed (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL) STRICT;`);
	const insert = bare.prepare('INSERT INTO profiles (email, doc) VALUES (?, ?)');
	bare.exec('BEGIN');
	for (let i = 0; i < 1000; i++) insert.run(seedEmail(i), JSON.stringify({ email: [seedEmail(i)] }));
	bare.exec('COMMIT');
	const select = bare.prepare('SELECT seq, doc FROM profiles WHERE email = ?');
	const update = bare.prepare('UPDATE profiles SET doc = ? WHERE seq = ?');
	const feed = bare.prepare('INSERT INTO feed (entry) VALUES (?)');
	const readFeed = bare.prepare('SELECT entry FROM feed WHERE seq = ?');
	const listeners = new EventEmitter();

	const pkgWrite = async (i) => {
		const t0 = performance.now();
		const arrived = new Promise((resolve) => {
			delivered = resolve;
		});
		await engine.applyByIdentifier({
			identifier: { property: 'email', value: seedEmail(i % 1000) },
			imports: [{ property: 'tier', mode: 'set', values: [`tier-${i}`] }],
			objectives: [],
			source: 'bench',
		});
		await arrived;
		const ms = performance.now() - t0;
		trigger.finishExecutions();
		return ms;
	};
	const baseWrite = async (i) => {
		const t0 = performance.now();
		const arrived = new Promise((resolve) => listeners.once('change', (seq) => resolve(JSON.parse(readFeed.get(seq).entry))));
		bare.exec('BEGIN IMMEDIATE');
		const row = select.get(seedEmail(i % 1000));
		const doc = JSON.parse(row.doc);
		const before = doc.tier ?? [];
		doc.tier = [`tier-${i}`];
		update.run(JSON.stringify(doc), row.seq);
		const { lastInsertRowid } = feed.run(JSON.stringify({ profileSeq: row.seq, changes: { tier: { before, after: doc.tier } } }));
		bare.exec('COMMIT');
		setImmediate(() => listeners.emit('change', lastInsertRowid));
		await arrived;
		return performance.now() - t0;
	};

	const perRound = 25;
	const latencies = { package: [], baseline: [] };
	const roundMedians = { package: [], baseline: [] };
	let i = 0;
	try {
		for (let k = 0; k < 10; k++) await pkgWrite(i++); // warm-up
		for (let r = 0; r < rounds; r++) {
			const order = r % 2 === 0 ? ['package', 'baseline'] : ['baseline', 'package'];
			for (const side of order) {
				const these = [];
				for (let k = 0; k < perRound; k++) these.push(await (side === 'package' ? pkgWrite(i++) : baseWrite(i++)));
				latencies[side].push(...these);
				roundMedians[side].push(median(these));
			}
		}
	} finally {
		trigger.finishExecutions();
		await trigger.close();
		bare.close();
		await closeProfileStores();
		if (previousFolder === undefined) delete process.env.N8N_USER_FOLDER;
		else process.env.N8N_USER_FOLDER = previousFolder;
		rmSync(home, { recursive: true, force: true });
	}
	const ratios = roundMedians.package.map((p, k) => roundMedians.baseline[k] / p);
	const p99 = (values) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))];
	return row({
		id: '7.latency',
		part: '7 change trigger',
		name: 'write-to-emit latency of the Profile Change Trigger (real TriggerContext, default poll interval) vs bare commit + in-process notification',
		unit: 'ms (median latency)',
		result: {
			package: median(latencies.package),
			baseline: median(latencies.baseline),
			ratio: median(ratios),
			ratioMin: Math.min(...ratios),
			ratioMax: Math.max(...ratios),
			samples: { package: latencies.package, baseline: latencies.baseline, ratios },
		},
		note: `latency p99 ${p99(latencies.package).toFixed(1)} ms (DESIGN: within a second), bare ${p99(latencies.baseline).toFixed(1)} ms; ratio = baseline latency / package latency`,
		extra: { p99Ms: p99(latencies.package), baselineP99Ms: p99(latencies.baseline) },
	});
}
