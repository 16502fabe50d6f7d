// npm run bench [-- --quick] [-- --skip-n8n] [-- --only=1.sqlite,6.vm.noop] ...
//
// Every figure is a ratio to a baseline measured in the same run: each part runs the package's
// operation and its baseline in alternating rounds (ABAB...), in a child process of its own (so its
// peak memory is its own), and reports medians, the median of the per-round ratios, and their
// spread. Writes bench/results.json and prints the table. See README "Benchmarks".
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const dist = join(root, 'dist');

function parseArgs(argv) {
	const flags = {};
	for (const arg of argv) {
		const [key, value] = arg.replace(/^--/, '').split('=');
		flags[key] = value ?? true;
	}
	return flags;
}

const flags = parseArgs(process.argv.slice(2));
const env = process.env;
const num = (flag, name, fallback) => Number(flags[flag] ?? env[name] ?? fallback);
const quick = Boolean(flags.quick || env.BENCH_QUICK === '1');
const list = (value) => (value ? String(value).split(',').filter(Boolean) : undefined);

const options = {
	dist,
	quick,
	sizes: {
		small: num('small', 'BENCH_SMALL', quick ? 2_000 : 10_000),
		large: num('large', 'BENCH_LARGE', quick ? 100_000 : 1_000_000),
	},
	roundMs: num('round-ms', 'BENCH_ROUND_MS', quick ? 250 : 400),
	rounds: num('rounds', 'BENCH_ROUNDS', quick ? 4 : 8),
	n8nRoundMs: num('n8n-round-ms', 'BENCH_N8N_ROUND_MS', quick ? 1_500 : 3_000),
	n8nRounds: num('n8n-rounds', 'BENCH_N8N_ROUNDS', quick ? 2 : 3),
	concurrency: num('concurrency', 'BENCH_CONCURRENCY', 8),
	engines: list(flags.engines ?? env.BENCH_ENGINES) ?? (quick ? ['vm'] : ['vm', 'legacy']),
	outboundItems: num('outbound-items', 'BENCH_OUTBOUND_ITEMS', quick ? 200 : 1_000),
	profilesSize: num('profiles', 'BENCH_PROFILES', quick ? 20_000 : 100_000),
	profileN8n: !(flags['no-profile'] || env.BENCH_NO_PROFILE === '1'),
	only: list(flags.only ?? env.BENCH_ONLY),
	// Where the large store is kept between runs (--no-cache builds it afresh).
	cacheDir: flags['no-cache'] ? join(os.tmpdir(), `profile-bench-nocache-${process.pid}`) : join(root, '.cache', 'bench'),
};
// --quick leaves the real n8n out (it alone takes a minute to start) unless --n8n asks for it.
const skipN8n = Boolean(flags['skip-n8n'] || env.BENCH_SKIP_N8N === '1' || (quick && !flags.n8n));

const PARTS = [
	{ name: 'store', ids: ['1.sqlite', '1.postgres', '2.lookup', '2.update'] },
	{ name: 'trigger', ids: ['3.engine', '3.context'] },
	{ name: 'outbound', ids: ['4.c1', '4.c8'] },
	{ name: 'render', ids: ['5.template', '5.jsonpath'] },
	{ name: 'n8n', ids: options.engines.flatMap((e) => [`6.${e}.noop`, `6.${e}.noopauth`, `6.${e}.builtin`]), n8n: true },
	{ name: 'profiles', ids: ['7.latency', '7.search', '7.nodesearch', '7.segments'] },
];

const work = mkdtempSync(join(os.tmpdir(), 'profile-bench-run-'));

/** Runs one part in a child process; returns its JSON result. */
function runPart(part, partOptions, { cpuProfile = false } = {}) {
	const out = join(work, `${part.name}-${Date.now()}.json`);
	const args = [join(__dirname, 'lib', 'child.mjs'), part.name, out, JSON.stringify(partOptions)];
	// Only one n8n may run on this machine at a time: the n8n part waits for the shared lock.
	const useFlock = part.n8n && spawnSync('flock', ['--version']).status === 0;
	const command = useFlock ? 'flock' : process.execPath;
	const commandArgs = useFlock ? ['/tmp/n8n.lock', process.execPath, ...args] : args;
	const started = Date.now();
	const child = spawnSync(command, commandArgs, {
		stdio: ['ignore', 'inherit', 'inherit'],
		env: { ...process.env, ...(cpuProfile ? { BENCH_CPU_PROFILE: '1' } : {}) },
	});
	if (!existsSync(out)) {
		return { part: part.name, error: `exited with ${child.status ?? child.signal} and wrote no result`, seconds: (Date.now() - started) / 1000 };
	}
	return JSON.parse(readFileSync(out, 'utf8'));
}

const fmt = (value) => {
	if (value === undefined || value === null || Number.isNaN(value)) return '';
	if (value >= 100) return Math.round(value).toLocaleString('en-US');
	if (value >= 10) return value.toFixed(1);
	return value.toFixed(2);
};

function tableLines(rows) {
	const header = ['part', 'package', 'baseline', 'ratio [min-max]', 'goal', 'met'];
	const lines = rows.map((r) => {
		const label = `${r.id} ${r.part}`;
		if (r.unavailable) return [label, r.unavailable, '', '', r.goal ? `${r.goal.op} ${r.goal.value}` : '', '-'];
		if (r.error) return [label, `failed: ${r.error}`, '', '', '', '-'];
		return [
			label,
			`${fmt(r.package)} ${r.unit}`,
			`${fmt(r.baseline)} ${r.unit}`,
			`${r.ratio.toFixed(2)} [${r.ratioMin.toFixed(2)}-${r.ratioMax.toFixed(2)}]`,
			r.goal ? `${r.goal.op} ${r.goal.value}` : '-',
			r.goal ? (r.met ? 'yes' : 'NO') : '-',
		];
	});
	const widths = header.map((h, k) => Math.max(h.length, ...lines.map((l) => String(l[k]).length)));
	const render = (cells) => `| ${cells.map((c, k) => String(c).padEnd(widths[k])).join(' | ')} |`;
	return [render(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(render)];
}

function main() {
	const t0 = Date.now();
	const want = (part) => !options.only || part.ids.some((id) => options.only.includes(id));
	const results = [];
	const rows = [];
	for (const part of PARTS) {
		if (!want(part)) continue;
		if (part.n8n && skipN8n) {
			for (const id of part.ids) {
				rows.push({ id, part: `6 real n8n (${id.split('.')[1]})`, unavailable: quick ? 'skipped (--quick; add --n8n)' : 'skipped (--skip-n8n)' });
			}
			continue;
		}
		process.stderr.write(`[bench] part ${part.name} ...\n`);
		const result = runPart(part, options);
		process.stderr.write(`[bench] part ${part.name}: ${result.seconds.toFixed(1)} s, peak ${Math.round(result.peakRssMb ?? 0)} MB\n`);
		results.push(result);
		if (result.error) {
			for (const id of part.ids) if (!options.only || options.only.includes(id)) rows.push({ id, part: part.name, error: result.error.split('\n')[0] });
			continue;
		}
		for (const r of result.rows) rows.push({ ...r, peakRssMb: result.peakRssMb });
	}

	// Where an in-process goal is missed: the part again, that row only, with the package's rounds
	// sampled by V8's profiler (the n8n part samples n8n itself while it runs).
	const profiles = {};
	for (const r of rows) {
		if (r.met !== false || r.id.startsWith('6.')) continue;
		const part = PARTS.find((p) => p.ids.includes(r.id));
		process.stderr.write(`[bench] ${r.id} missed its goal: profiling it\n`);
		const again = runPart(part, { ...options, only: [r.id], rounds: Math.max(4, Math.floor(options.rounds / 2)) }, { cpuProfile: true });
		const profiled = again.rows?.find((x) => x.id === r.id);
		if (profiled?.cpuProfile) profiles[r.id] = profiled.cpuProfile;
	}
	for (const result of results) {
		for (const [engine, extra] of Object.entries(result.extra ?? {})) {
			if (extra.cpuProfile) profiles[`6.${engine}`] = extra.cpuProfile;
		}
	}

	const machine = {
		node: process.version,
		platform: `${os.type()} ${os.release()} ${os.arch()}`,
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model,
		memoryGb: Math.round(os.totalmem() / 2 ** 30),
		loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
	};
	const output = {
		date: new Date().toISOString(),
		seconds: (Date.now() - t0) / 1000,
		machine,
		options: { ...options, dist: undefined, cacheDir: undefined, skipN8n },
		rows: rows.map(({ samples, cpuProfile: _cpu, ...rest }) => ({ ...rest, samples })),
		notes: results.flatMap((r) => (r.notes ?? []).map((n) => `${r.part}: ${n}`)),
		parts: results.map(({ part, seconds, peakRssMb, error, extra }) => ({ part, seconds, peakRssMb, error, extra })),
		profiles,
	};
	writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(output, null, 2)}\n`);

	console.log(
		`\nNode ${process.version}, ${machine.cpus} CPUs (${machine.cpuModel}); load average ${machine.loadAverageAtEnd.join(' ')}; ` +
			`${options.rounds} rounds x ${options.roundMs} ms per side (n8n: ${options.n8nRounds} x ${options.n8nRoundMs} ms, concurrency ${options.concurrency})`,
	);
	console.log('ratio = package / baseline (throughput), median of the per-round ratios [min-max]; higher is better\n');
	for (const line of tableLines(rows)) console.log(line);
	const notes = output.notes;
	if (notes.length) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
	for (const r of rows) if (r.note) console.log(`- ${r.id}: ${r.note}`);
	for (const [id, profile] of Object.entries(profiles)) {
		console.log(`\nprofile ${id}:`);
		const top = profile.topFunctions ?? profile.profileVsNoop;
		for (const f of (top ?? []).slice(0, 12)) {
			console.log(`  ${f.pct !== undefined ? `${String(f.pct).padStart(5)} %` : `+${f.extra} ms/req`}  ${f.name}`);
		}
	}
	console.log(`\nbench/results.json written; ${Math.round(output.seconds)} s in all`);
	rmSync(work, { recursive: true, force: true });
	if (flags['no-cache']) rmSync(options.cacheDir, { recursive: true, force: true });
}

main();
