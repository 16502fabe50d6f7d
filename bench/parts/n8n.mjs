/**
 * Part 6: requests per second through a real n8n (the e2e harness: the packed package installed as
 * a community package, workflows imported and published with n8n's CLI), for four single-node
 * workflows on the same n8n, each answering with its node's item (responseMode lastNode, so a
 * request waits for its execution and nothing piles up behind the answers):
 *   - the Profile Webhook Trigger (API key, three mappings, one timeline event, a store update);
 *   - a no-op community trigger (bench/fixtures/n8n-nodes-bench-noop, installed beside it), and the
 *     same no-op reading its API key credential per request (n8n's cost of a credential read);
 *   - n8n's built-in Webhook node.
 * Load: a bounded concurrent loop of keep-alive fetches on 127.0.0.1, in rounds that rotate the
 * four workflows; n8n's CPU time per request is read from /proc for its process group.
 * Run once per expression engine (N8N_EXPRESSION_ENGINE: vm, the 2.x default, and legacy).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { median, row, summarize } from '../lib/measure.mjs';
import { summarizeCpuProfile } from '../lib/cpuprofile.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures');
const keptProfiles = join(here, '..', '..', '.cache', 'bench');
const WORKFLOWS = {
	profile: { file: 'profile-trigger.json', path: 'bench-profile', label: 'Profile Webhook Trigger' },
	noop: { file: 'noop-trigger.json', path: 'bench-noop', label: 'no-op community trigger' },
	noopAuth: { file: 'noop-auth-trigger.json', path: 'bench-noop-auth', label: 'no-op community trigger reading its API key' },
	builtin: { file: 'builtin-webhook.json', path: 'bench-builtin', label: 'built-in Webhook' },
};

const TICKS = 100; // clock ticks per second (Linux USER_HZ)

/** CPU seconds used so far by every live process in n8n's process group. */
function groupCpuSeconds(pgid) {
	let ticks = 0;
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(fields[2]) !== pgid) continue;
			ticks += Number(fields[11]) + Number(fields[12]);
		} catch {
			/* gone */
		}
	}
	return ticks / TICKS;
}

function vmHwmMb(pid) {
	try {
		const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) / 1024 : undefined;
	} catch {
		return undefined;
	}
}

/** `concurrency` workers POST until `ms` have passed; returns requests/s and what went wrong. */
async function load(send, { ms, concurrency }) {
	const start = performance.now();
	const deadline = start + ms;
	let done = 0;
	const failures = [];
	let i = 0;
	const worker = async () => {
		while (performance.now() < deadline) {
			const n = i++;
			try {
				await send(n);
				done++;
			} catch (error) {
				failures.push(error.message);
				if (failures.length > 20) throw new Error(`too many failed requests: ${failures.slice(0, 3).join(' | ')}`);
			}
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	return { rate: done / ((performance.now() - start) / 1000), done, failures };
}

export async function run(options) {
	const { engines, n8nRoundMs, n8nRounds, concurrency, profileN8n } = options;
	const harness = await import(join(here, '..', '..', 'scripts', 'n8n', 'harness.mjs'));
	const log = (msg) => process.stderr.write(`[bench n8n] ${msg}\n`);
	const work = mkdtempSync(join(tmpdir(), 'profile-bench-n8n-'));
	const rows = [];
	const notes = [];
	const extra = {};
	try {
		const tarball = await harness.packPackage({ destDir: work });
		const noopTarball = join(
			work,
			JSON.parse(
				execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
					cwd: join(fixtures, 'n8n-nodes-bench-noop'),
				}).toString(),
			)[0].filename,
		);
		const credential = harness.demoCredential();
		const emails = Array.from({ length: 2000 }, (_, k) => `n8n-bench-${k}@example.test`);
		for (const engine of engines) {
			const profileDir = profileN8n ? mkdtempSync(join(work, `cpuprof-${engine}-`)) : undefined;
			const t0 = Date.now();
			const n8n = await harness.start({
				workflows: Object.values(WORKFLOWS).map((w) => join(fixtures, 'workflows', w.file)),
				credentials: [credential],
				tarball,
				extraTarballs: [noopTarball],
				extraEnv: {
					N8N_EXPRESSION_ENGINE: engine,
					...(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
				},
				log,
			});
			notes.push(`n8n (${engine}) started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
			let exitEpoch;
			void n8n.exited.then(() => {
				exitEpoch = Date.now();
			});
			const windows = { profile: [], noop: [], noopAuth: [], builtin: [] };
			const requests = { profile: 0, noop: 0, noopAuth: 0, builtin: 0 };
			const url = (key) => `${n8n.baseUrl}/webhook/${WORKFLOWS[key].path}`;
			const senders = {
				profile: async (n) => {
					const email = emails[n % emails.length];
					const res = await fetch(`${url('profile')}?property=email&email=${encodeURIComponent(email)}`, {
						method: 'POST',
						headers: { 'X-API-Key': credential.data.apiKey, 'content-type': 'application/json' },
						body: JSON.stringify({ firstName: `Name ${n}`, visits: 1, tags: ['bench', `t${n % 7}`] }),
					});
					const text = await res.text();
					if (res.status !== 200 || !text.includes('"state"')) throw new Error(`profile ${res.status} ${text.slice(0, 200)}`);
				},
				noop: async (n) => {
					const res = await fetch(`${url('noop')}?property=email&email=x${n}`, {
						method: 'POST',
						headers: { 'content-type': 'application/json' },
						body: JSON.stringify({ firstName: `Name ${n}`, visits: 1, tags: ['bench', `t${n % 7}`] }),
					});
					const text = await res.text();
					if (res.status !== 200) throw new Error(`noop ${res.status} ${text.slice(0, 200)}`);
				},
				noopAuth: async (n) => {
					const res = await fetch(`${url('noopAuth')}?property=email&email=x${n}`, {
						method: 'POST',
						headers: { 'X-API-Key': credential.data.apiKey, 'content-type': 'application/json' },
						body: JSON.stringify({ firstName: `Name ${n}`, visits: 1, tags: ['bench', `t${n % 7}`] }),
					});
					const text = await res.text();
					if (res.status !== 200) throw new Error(`noopAuth ${res.status} ${text.slice(0, 200)}`);
				},
				builtin: async (n) => {
					const res = await fetch(`${url('builtin')}?property=email&email=x${n}`, {
						method: 'POST',
						headers: { 'content-type': 'application/json' },
						body: JSON.stringify({ firstName: `Name ${n}`, visits: 1, tags: ['bench', `t${n % 7}`] }),
					});
					const text = await res.text();
					if (res.status !== 200) throw new Error(`builtin ${res.status} ${text.slice(0, 200)}`);
				},
			};
			const samples = { profile: [], noop: [], noopAuth: [], builtin: [] };
			const cpuMs = { profile: [], noop: [], noopAuth: [], builtin: [] };
			const failures = [];
			try {
				for (const key of Object.keys(senders)) await load(senders[key], { ms: Math.min(2000, n8nRoundMs), concurrency }); // warm-up
				const keys = Object.keys(senders);
				for (let r = 0; r < n8nRounds; r++) {
					const order = keys.map((_, k) => keys[(k + r) % keys.length]);
					for (const key of order) {
						const cpu0 = groupCpuSeconds(n8n.pid);
						const from = Date.now();
						const result = await load(senders[key], { ms: n8nRoundMs, concurrency });
						windows[key].push([from, Date.now()]);
						requests[key] += result.done;
						const cpu = groupCpuSeconds(n8n.pid) - cpu0;
						samples[key].push(result.rate);
						cpuMs[key].push((cpu * 1000) / Math.max(1, result.done));
						failures.push(...result.failures);
					}
				}
				extra[engine] = {
					n8nPeakRssMb: vmHwmMb(n8n.pid),
					cpuMsPerRequest: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, median(v)])),
					failures: failures.length,
				};
			} finally {
				await n8n.stop();
			}
			const cpu = extra[engine].cpuMsPerRequest;
			const common = { unit: 'requests/s', extra: { engine, concurrency, ...extra[engine] } };
			rows.push(
				row({
					id: `6.${engine}.noop`,
					part: `6 real n8n (${engine})`,
					name: `Profile Webhook Trigger workflow vs no-op community trigger workflow, concurrency ${concurrency}`,
					result: summarize({ package: samples.profile, baseline: samples.noop }),
					goal: { op: '>=', value: 0.95 },
					note: `n8n CPU per request: ${cpu.profile.toFixed(1)} ms vs ${cpu.noop.toFixed(1)} ms`,
					...common,
				}),
				row({
					id: `6.${engine}.noopauth`,
					part: `6 real n8n (${engine})`,
					name: `Profile Webhook Trigger workflow vs no-op community trigger that reads its API key credential, concurrency ${concurrency}`,
					result: summarize({ package: samples.profile, baseline: samples.noopAuth }),
					note: `n8n CPU per request: ${cpu.profile.toFixed(1)} ms vs ${cpu.noopAuth.toFixed(1)} ms (what is left is the package's own work)`,
					...common,
				}),
				row({
					id: `6.${engine}.builtin`,
					part: `6 real n8n (${engine})`,
					name: `Profile Webhook Trigger workflow vs built-in Webhook workflow, concurrency ${concurrency}`,
					result: summarize({ package: samples.profile, baseline: samples.builtin }),
					note: `n8n CPU per request: ${cpu.profile.toFixed(1)} ms vs ${cpu.builtin.toFixed(1)} ms`,
					...common,
				}),
			);
			if (profileDir) {
				const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
				// The main process wrote the largest profile (the task runner idles).
				const main = files
					.map((f) => ({ f, size: readFileSync(join(profileDir, f)).length }))
					.sort((a, b) => b.size - a.size)[0];
				if (main && exitEpoch) {
					// Kept for a closer look (chrome://inspect or any .cpuprofile viewer).
					const file = join(keptProfiles, `n8n-${engine}.cpuprofile`);
					mkdirSync(keptProfiles, { recursive: true });
					copyFileSync(join(profileDir, main.f), file);
					extra[engine].cpuProfileFile = file;
					const per = {};
					for (const key of Object.keys(windows)) {
						const summary = summarizeCpuProfile(file, {
							top: 400,
							windows: windows[key].map(([a, b]) => [exitEpoch - a, exitEpoch - b]),
						});
						per[key] = { requests: requests[key], summary };
					}
					extra[engine].cpuProfile = {
						note: 'main n8n process, sampled during each workflow\'s load rounds only; ms of self time per request',
						profileVsNoop: profileDiff(per.profile, per.noop),
						profileVsNoopAuth: profileDiff(per.profile, per.noopAuth),
						noopAuthVsNoop: profileDiff(per.noopAuth, per.noop),
						noopVsBuiltin: profileDiff(per.noop, per.builtin),
						topProfile: perRequest(per.profile).slice(0, 25),
						byGroupProfile: per.profile.summary.byGroup.map((g) => ({ ...g, msPerRequest: round(g.selfMs / per.profile.requests) })),
						byGroupNoop: per.noop.summary.byGroup.map((g) => ({ ...g, msPerRequest: round(g.selfMs / per.noop.requests) })),
					};
				}
			}
		}
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
	return { rows, notes, extra };
}

const round = (x) => Math.round(x * 100) / 100;

function perRequest({ requests, summary }) {
	return summary.topFunctions.filter((f) => !f.name.startsWith('(idle)')).map((f) => ({ name: f.name, msPerRequest: round(f.selfMs / Math.max(1, requests)) }));
}

/** The functions that take more self time per request in `a` than in `b`, the largest first. */
function profileDiff(a, b) {
	const other = new Map(perRequest(b).map((f) => [f.name, f.msPerRequest]));
	return perRequest(a)
		.map((f) => ({ name: f.name, msPerRequest: f.msPerRequest, baseline: other.get(f.name) ?? 0, extra: round(f.msPerRequest - (other.get(f.name) ?? 0)) }))
		.sort((x, y) => y.extra - x.extra)
		.slice(0, 20);
}
