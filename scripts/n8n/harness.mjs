#!/usr/bin/env node
/**
 * Puts the built package into a REAL n8n 2.x server and drives it over HTTP.
 * Used by `npm run demo`, `npm run test:e2e` and by hand.
 *
 * What `start()` does, in order:
 *  1. makes sure the pinned n8n is installed in the cache (scripts/n8n/install-n8n.sh, once);
 *  2. creates a fresh run folder `.e2e/runs/<timestamp>` (logs, run.json) whose `home` links to n8n's
 *     user folder, kept outside the repository (see homesDir() for why);
 *  3. `npm pack`s this repository (dist/ must be built: the npm scripts build first) and installs the
 *     tarball into `home/.n8n/nodes` exactly the way n8n's Community Nodes panel does (extract into
 *     `node_modules/<name>`, drop dev/peer/optional dependencies, `npm install` there with scripts off),
 *     then requires every node and credential file, so a missing runtime dependency or a file left out
 *     of the package fails here;
 *  4. imports credentials and workflows with n8n's CLI (ids, webhookIds and `active` normalized) and
 *     publishes every workflow (`n8n publish:workflow --id=`);
 *  5. starts `n8n start` bound to 127.0.0.1 on free ports, quiet (no telemetry, no calls out), in its
 *     own process group, and waits for /healthz/readiness, then until every webhook of the imported
 *     workflows answers a CORS preflight with 204; fails fast if n8n dies or a publication failed.
 *
 * `stop()` signals the recorded process group (SIGTERM, then SIGKILL), never anything by name.
 *
 * CLI, with Node >= 24 (node_modules/.bin/node, or `node` inside npm scripts, which put it first on PATH):
 *   node scripts/n8n/harness.mjs install
 *   node scripts/n8n/harness.mjs start [--demo-credential] [--detach] [--port=N] <workflow.json|dir>...
 *   node scripts/n8n/harness.mjs stop [<runDir>]      (default: the latest run)
 *   node scripts/n8n/harness.mjs stop-all             (every run of this checkout still alive)
 *   node scripts/n8n/harness.mjs status
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const N8N_VERSION = process.env.N8N_VERSION || '2.41.1';
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RUNS_DIR = path.join(REPO_ROOT, '.e2e', 'runs');
const INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'n8n', 'install-n8n.sh');

/** Where the pinned n8n lives (outside the tracked files). */
export function n8nCacheDir() {
	return (
		process.env.N8N_CACHE_DIR ||
		path.join(os.homedir(), '.cache', 'n8n-nodes-profile-webhooks', `n8n-${N8N_VERSION}`)
	);
}

const defaultLog = (msg) => process.stderr.write(`[n8n-harness] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------
// Processes: everything we spawn gets its own process group, recorded so it can be stopped.
// ---------------------------------------------------------------------------------------------

/** Process groups started by this process and not yet stopped (stopped on exit/signals). */
const liveGroups = new Set();
let exitHooksInstalled = false;

function installExitHooks() {
	if (exitHooksInstalled) return;
	exitHooksInstalled = true;
	// Last resort when the caller never calls stop(): n8n handles SIGTERM by shutting down.
	process.on('exit', () => {
		for (const pgid of liveGroups) {
			try {
				process.kill(-pgid, 'SIGTERM');
			} catch {
				/* already gone */
			}
		}
	});
	for (const [signal, code] of [
		['SIGINT', 130],
		['SIGTERM', 143],
		['SIGHUP', 129],
	]) {
		const onSignal = () => {
			// A caller that listens for the signal too owns the shutdown (the demo does); the exit
			// hook above still covers it. Otherwise stop what we started and exit as the signal would.
			if (process.listenerCount(signal) > 1) return;
			process.off(signal, onSignal);
			void Promise.allSettled([...liveGroups].map((pgid) => stopProcessGroup(pgid, { timeoutMs: 20_000 }))).then(
				() => process.exit(code),
			);
		};
		process.on(signal, onSignal);
	}
}

/** /proc/<pid>/stat fields after the command name: [state, ppid, pgrp, ...]. */
function procStat(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return { state: fields[0], pgrp: Number(fields[2]), startTime: fields[19] };
	} catch {
		return undefined;
	}
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid) {
	const members = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		const stat = procStat(entry);
		if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(Number(entry));
	}
	return members;
}

/** SIGTERM a process group, wait for it to empty, SIGKILL what is left after the timeout. */
export async function stopProcessGroup(pgid, { timeoutMs = 40_000 } = {}) {
	const signal = (sig) => {
		try {
			process.kill(-pgid, sig);
		} catch {
			/* group gone */
		}
	};
	if (groupMembers(pgid).length) {
		signal('SIGTERM');
		const deadline = Date.now() + timeoutMs;
		while (groupMembers(pgid).length && Date.now() < deadline) await sleep(200);
		if (groupMembers(pgid).length) {
			signal('SIGKILL');
			const killDeadline = Date.now() + 10_000;
			while (groupMembers(pgid).length && Date.now() < killDeadline) await sleep(100);
		}
	}
	liveGroups.delete(pgid);
	const left = groupMembers(pgid);
	if (left.length) throw new Error(`process group ${pgid} still has members after SIGKILL: ${left.join(', ')}`);
}

/**
 * Runs a command to completion in its own process group, appending its output to `logFile`.
 * Rejects on a non-zero exit or a timeout (after killing the group), with the output's tail.
 */
export function runCommand(cmd, args, { cwd = REPO_ROOT, env = process.env, logFile, timeoutMs = 600_000, log, echo = false } = {}) {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
		if (child.pid) liveGroups.add(child.pid);
		installExitHooks();
		let stdout = '';
		let stderr = '';
		if (logFile) fs.mkdirSync(path.dirname(logFile), { recursive: true });
		const out = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : undefined;
		out?.on('error', (error) => process.stderr.write(`[n8n-harness] cannot write ${logFile}: ${error.message}\n`));
		out?.write(`\n$ ${[cmd, ...args].join(' ')}   (cwd ${cwd})\n`);
		child.stdout.on('data', (chunk) => {
			stdout += chunk;
			out?.write(chunk);
			if (echo) process.stderr.write(chunk);
		});
		child.stderr.on('data', (chunk) => {
			stderr += chunk;
			out?.write(chunk);
			if (echo) process.stderr.write(chunk);
		});
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			void stopProcessGroup(child.pid, { timeoutMs: 5_000 }).catch(() => {});
		}, timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			liveGroups.delete(child.pid);
			out?.end();
			reject(error);
		});
		child.on('close', (code, sig) => {
			clearTimeout(timer);
			liveGroups.delete(child.pid);
			out?.end(`[exit ${code ?? sig} after ${seconds(Date.now() - started)}]\n`);
			log?.(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')}: ${seconds(Date.now() - started)}`);
			if (code === 0 && !timedOut) return resolve({ stdout, stderr });
			const tail = (stdout + stderr).trim().split('\n').slice(-25).join('\n');
			reject(
				new Error(
					`${[cmd, ...args].join(' ')} ${timedOut ? `timed out after ${seconds(timeoutMs)}` : `exited with ${code ?? sig}`}` +
						`${logFile ? ` (log: ${logFile})` : ''}\n${tail}`,
				),
			);
		});
	});
}

// ---------------------------------------------------------------------------------------------
// n8n install, ports, package
// ---------------------------------------------------------------------------------------------

/** Installs the pinned n8n into the cache unless already there; returns the paths to run it. */
export async function ensureN8n({ log = defaultLog } = {}) {
	const cacheDir = n8nCacheDir();
	const marker = path.join(cacheDir, '.installed');
	if (!fs.existsSync(marker)) {
		log(`n8n ${N8N_VERSION} is not installed in ${cacheDir} yet: installing it once (about 5 minutes)`);
		await runCommand('bash', [INSTALL_SCRIPT], {
			env: { ...process.env, N8N_CACHE_DIR: cacheDir, N8N_VERSION },
			timeoutMs: 45 * 60_000,
			logFile: `${cacheDir}.install.log`,
			log,
			echo: true,
		}).catch((error) => {
			throw new Error(`installing n8n failed: ${error.message}`);
		});
	}
	const nodeBin = path.join(cacheDir, 'node24', 'bin', 'node');
	const n8nBin = path.join(cacheDir, 'node_modules', 'n8n', 'bin', 'n8n');
	for (const file of [nodeBin, n8nBin]) {
		if (!fs.existsSync(file)) throw new Error(`${file} is missing: remove ${marker} and run ${INSTALL_SCRIPT}`);
	}
	return { cacheDir, nodeBin, n8nBin, nodeModules: path.join(cacheDir, 'node_modules') };
}

/** A port that was free on 127.0.0.1 a moment ago (`preferred` first, if given and free). */
export async function freePort(preferred) {
	const tryListen = (port) =>
		new Promise((resolve) => {
			const server = net.createServer();
			server.unref();
			server.once('error', () => resolve(undefined));
			server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
				const { port: got } = server.address();
				server.close(() => resolve(got));
			});
		});
	if (preferred) {
		const got = await tryListen(preferred);
		if (got) return got;
	}
	return await tryListen(0);
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** `npm pack` of this repository (already built) into `destDir`; returns the tarball path. */
export async function packPackage({ destDir, logFile, log = defaultLog } = {}) {
	const pkg = readJson(path.join(REPO_ROOT, 'package.json'));
	const listed = [...(pkg.n8n?.nodes ?? []), ...(pkg.n8n?.credentials ?? [])];
	const missing = listed.filter((file) => !fs.existsSync(path.join(REPO_ROOT, file)));
	if (missing.length) {
		throw new Error(`the package is not built (missing ${missing.join(', ')}): run \`npm run build\` first`);
	}
	await fsp.mkdir(destDir, { recursive: true });
	// --ignore-scripts: the npm scripts that call the harness have just built dist/; prepack would
	// clean and rebuild it again under the feet of anyone else working in this checkout.
	const { stdout } = await runCommand('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destDir], {
		logFile,
		timeoutMs: 120_000,
		log,
	});
	const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')));
	return path.join(destDir, info.filename);
}

/**
 * Installs a package tarball into `<userFolder>/.n8n/nodes` the way n8n 2.41's Community Nodes panel
 * does (CommunityPackagesService.downloadPackage): extract into node_modules/<name>, drop dev, peer
 * and optional dependencies from its package.json, `npm install` inside it with scripts off, record it
 * in nodes/package.json. Then requires every node and credential file with n8n's module paths.
 */
export async function installPackage({ tarball, userFolder, n8n, logFile, log = defaultLog }) {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	// Extracted and installed in a staging folder next to node_modules, then renamed into place, so an
	// n8n CLI command running meanwhile never scans a half-installed package.
	const stagingDir = path.join(nodesDir, '.staging', randomBytes(4).toString('hex'));
	await fsp.mkdir(stagingDir, { recursive: true });
	await runCommand('tar', ['-xzf', tarball, '-C', stagingDir, '--strip-components=1'], { logFile });
	const pkg = readJson(path.join(stagingDir, 'package.json'));
	if (!/^(@[^/]+\/)?n8n-nodes-/.test(pkg.name)) {
		throw new Error(`n8n only loads community packages named n8n-nodes-* or @scope/n8n-nodes-*, not ${pkg.name}`);
	}
	const { devDependencies: _dev, peerDependencies: _peer, optionalDependencies: _optional, ...runtime } = pkg;
	await fsp.writeFile(path.join(stagingDir, 'package.json'), JSON.stringify(runtime, null, 2));
	await runCommand(
		'npm',
		[
			'install',
			'--audit=false',
			'--fund=false',
			'--bin-links=false',
			'--install-strategy=shallow',
			'--ignore-scripts=true',
			'--package-lock=false',
			'--prefer-offline',
		],
		{ cwd: stagingDir, env: { ...process.env, npm_config_loglevel: 'warn' }, logFile, timeoutMs: 300_000 },
	);
	const packageDir = path.join(nodesDir, 'node_modules', pkg.name);
	await fsp.mkdir(path.dirname(packageDir), { recursive: true });
	await fsp.rename(stagingDir, packageDir);
	await fsp.rm(path.join(nodesDir, '.staging'), { recursive: true, force: true });
	// Kept beside the packages installed before it (a run may install more than one).
	let dependencies = {};
	try {
		dependencies = readJson(path.join(nodesDir, 'package.json')).dependencies ?? {};
	} catch {
		/* the first package */
	}
	await fsp.writeFile(
		path.join(nodesDir, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { ...dependencies, [pkg.name]: pkg.version } }, null, 2),
	);
	const files = [...(pkg.n8n?.nodes ?? []), ...(pkg.n8n?.credentials ?? [])].map((file) => path.join(packageDir, file));
	if (!files.length) throw new Error(`${pkg.name} lists no nodes or credentials in its package.json "n8n" section`);
	const missing = files.filter((file) => !fs.existsSync(file));
	if (missing.length) throw new Error(`the packed package lacks files its package.json names: ${missing.join(', ')}`);
	// n8n puts its own module paths on NODE_PATH before loading packages (n8n-workflow is a peer).
	await runCommand(n8n.nodeBin, ['-e', `for (const f of ${JSON.stringify(files)}) require(f);`], {
		cwd: nodesDir,
		env: { ...process.env, NODE_PATH: [path.join(n8n.nodeModules, 'n8n', 'node_modules'), n8n.nodeModules].join(':') },
		logFile,
		timeoutMs: 60_000,
	}).catch((error) => {
		throw new Error(`the installed package does not load (missing runtime dependency?): ${error.message}`);
	});
	return { name: pkg.name, version: pkg.version, packageDir };
}

// ---------------------------------------------------------------------------------------------
// Workflows and credentials
// ---------------------------------------------------------------------------------------------

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A 16-character id like n8n's, derived from `seed` when given (stable per file). */
function n8nId(seed) {
	const bytes = seed ? createHash('sha256').update(seed).digest() : randomBytes(16);
	return Array.from(bytes.subarray(0, 16), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

const isWebhookNode = (node) => /webhook|trigger/i.test(node.type) && typeof node.parameters?.path === 'string';

/** Expands files and directories (their *.json) into workflow file paths. */
export function workflowFiles(inputs) {
	return inputs.flatMap((input) => {
		const resolved = path.resolve(input);
		if (fs.statSync(resolved).isDirectory()) {
			return fs
				.readdirSync(resolved)
				.filter((file) => file.endsWith('.json'))
				.sort()
				.map((file) => path.join(resolved, file));
		}
		return [resolved];
	});
}

/**
 * Reads workflow files (an object or an array each), replaces placeholders in their text, and
 * normalizes them for a fresh import: an `id` (kept when given, else derived from the file name),
 * a `webhookId` on webhook nodes, `active: false` (publishing activates). Returns the workflows.
 */
export function normalizeWorkflows(files, replacements = {}) {
	const workflows = [];
	for (const file of files) {
		let text = fs.readFileSync(file, 'utf8');
		for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
		const parsed = JSON.parse(text);
		const list = Array.isArray(parsed) ? parsed : [parsed];
		list.forEach((workflow, index) => {
			if (!Array.isArray(workflow.nodes)) throw new Error(`${file}: not a workflow (no nodes)`);
			workflow.id ||= n8nId(`${path.basename(file)}#${index}`);
			workflow.name ||= path.basename(file, '.json');
			workflow.connections ||= {};
			workflow.settings ||= {};
			workflow.active = false;
			for (const node of workflow.nodes) {
				node.id ||= randomUUID();
				if (isWebhookNode(node)) node.webhookId ||= randomUUID();
			}
			workflow.__file = file;
			workflows.push(workflow);
		});
	}
	const seen = new Map();
	for (const workflow of workflows) {
		if (seen.has(workflow.id)) {
			throw new Error(`workflow id ${workflow.id} is used by both ${seen.get(workflow.id)} and ${workflow.__file}`);
		}
		seen.set(workflow.id, workflow.__file);
	}
	return workflows;
}

/** The API-key credential the demo and the e2e suite use (`profileWebhookApi`). */
export function demoCredential(apiKey = `demo-${randomBytes(18).toString('base64url')}`) {
	return {
		id: 'demoProfileKey01',
		name: 'Profile webhook API key (demo)',
		type: 'profileWebhookApi',
		data: { apiKey, headerName: 'X-API-Key', sendIn: 'header', queryParameterName: 'apiKey' },
	};
}

// ---------------------------------------------------------------------------------------------
// n8n's database (read-only)
// ---------------------------------------------------------------------------------------------

let DatabaseSync;
/** Runs `fn(db)` on a short-lived read-only connection to n8n's SQLite database. */
export async function withDb(dbPath, fn) {
	if (!DatabaseSync) {
		// node:sqlite prints an ExperimentalWarning on some Node 24 releases: keep it out of the output.
		const emit = process.emitWarning;
		process.emitWarning = (warning, ...rest) =>
			String(warning).includes('SQLite') ? undefined : emit.call(process, warning, ...rest);
		({ DatabaseSync } = await import('node:sqlite'));
		process.emitWarning = emit;
	}
	const db = new DatabaseSync(dbPath, { readOnly: true });
	try {
		db.exec('PRAGMA busy_timeout = 5000');
		return fn(db);
	} finally {
		db.close();
	}
}

/** Rows of a query, [] while the database or the table does not exist yet. */
export async function query(dbPath, sql, ...params) {
	if (!fs.existsSync(dbPath)) return [];
	try {
		return await withDb(dbPath, (db) => db.prepare(sql).all(...params));
	} catch (error) {
		if (/no such table|unable to open/i.test(error.message)) return [];
		throw error;
	}
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

function httpStatus(url, { method = 'GET', headers = {}, timeoutMs = 5_000 } = {}) {
	return new Promise((resolve) => {
		const req = http.request(url, { method, headers, timeout: timeoutMs }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', () => resolve(0));
		req.end();
	});
}

/** n8n came up on a database that lacks what the CLI imported into it: the start can be repeated. */
export class EmptyDatabaseError extends Error {}

/** CORS preflight: 204 once n8n serves the webhook, 404 before; starts no execution. */
export const preflight = (baseUrl, hook) =>
	httpStatus(`${baseUrl}/webhook/${hook.webhookPath}`, {
		method: 'OPTIONS',
		headers: { Origin: baseUrl, 'Access-Control-Request-Method': hook.method },
	});

/**
 * Where the example workflows send their outgoing requests: the demo's receiver listens there.
 * Runs whose receiver is elsewhere (the e2e suite, a demo with 18080 taken) rewrite this prefix in
 * the workflows they import: `replacements: { [EXAMPLE_RECEIVER_URL]: receiver.url }`.
 */
export const EXAMPLE_RECEIVER_URL = 'http://127.0.0.1:18080';

/**
 * A small HTTP receiver on 127.0.0.1 for the requests workflows send out. Every request is recorded,
 * handed to `onRequest`, and answered 200 `{"received":true,"contactId":"contact-<n>"}` (a CRM-like
 * answer that response mappings can read). `GET /_received` returns the record.
 */
export async function startReceiver({ port, onRequest } = {}) {
	const requests = [];
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (chunk) => chunks.push(chunk));
		req.on('end', () => {
			if (req.method === 'GET' && req.url === '/_received') {
				res.writeHead(200, { 'content-type': 'application/json' });
				return res.end(JSON.stringify(requests));
			}
			const body = Buffer.concat(chunks).toString('utf8');
			const entry = { at: new Date().toISOString(), method: req.method, url: req.url, headers: req.headers, body };
			requests.push(entry);
			onRequest?.(entry);
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ received: true, contactId: `contact-${requests.length}` }));
		});
	});
	server.listen(port ?? 0, '127.0.0.1');
	await new Promise((resolve, reject) => {
		server.once('listening', resolve);
		server.once('error', reject);
	});
	const url = `http://127.0.0.1:${server.address().port}`;
	return {
		url,
		requests,
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}

// ---------------------------------------------------------------------------------------------
// start / stop
// ---------------------------------------------------------------------------------------------

/** The quiet, local-only environment n8n runs in (see docs in the repo notes on real n8n). */
export function n8nEnv({ n8n, userFolder, port, brokerPort, encryptionKey, logLevel = 'info', extraEnv = {} }) {
	const listen = port
		? {
				N8N_PORT: String(port),
				N8N_WEBHOOK_URL: `http://127.0.0.1:${port}/`,
				N8N_EDITOR_BASE_URL: `http://127.0.0.1:${port}/`,
				N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			}
		: {};
	const env = { ...process.env };
	// Nothing of the caller's npm/n8n configuration leaks into the instance.
	for (const key of Object.keys(env)) {
		if (/^(N8N_|DB_|EXECUTIONS_|QUEUE_|WEBHOOK_URL$|npm_)/.test(key)) delete env[key];
	}
	return {
		...env,
		PATH: `${path.dirname(n8n.nodeBin)}:${env.PATH ?? ''}`,
		N8N_USER_FOLDER: userFolder,
		...listen,
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_AI_ENABLED: 'false',
		N8N_DISABLED_MODULES: 'mcp-registry',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		N8N_SECURE_COOKIE: 'false',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_ENCRYPTION_KEY: encryptionKey,
		N8N_LOG_OUTPUT: 'console',
		N8N_LOG_LEVEL: logLevel,
		NO_COLOR: '1',
		GENERIC_TIMEZONE: 'UTC',
		...extraEnv,
	};
}

/**
 * Where run user folders live. Deliberately OUTSIDE the repository: Node resolves a package's
 * requires by walking up from its real path, and a user folder under the checkout would find the
 * repository's node_modules, hiding a runtime dependency the package forgot to declare.
 */
export function homesDir() {
	if (process.env.HARNESS_HOMES_DIR) return process.env.HARNESS_HOMES_DIR;
	// One folder per checkout, so pruning here never touches another clone's runs.
	const checkout = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 10);
	return path.join(os.tmpdir(), 'n8n-nodes-profile-webhooks-e2e', checkout);
}

/** The first ancestor of `dir` holding a node_modules folder (n8n's cache excepted), if any. */
function ancestorNodeModules(dir) {
	for (let current = path.dirname(dir); ; current = path.dirname(current)) {
		if (fs.existsSync(path.join(current, 'node_modules'))) return path.join(current, 'node_modules');
		if (path.dirname(current) === current) return undefined;
	}
}

/** A fresh run folder in .e2e/runs/<timestamp> and its user folder (linked there as `home`). */
function newRunDir() {
	const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
	const runDir = path.join(RUNS_DIR, name);
	fs.mkdirSync(runDir, { recursive: true });
	const userFolder = path.join(homesDir(), name);
	fs.mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
	const leak = ancestorNodeModules(userFolder);
	if (leak) {
		throw new Error(
			`${leak} would be visible to the installed package (module resolution walks up from ${userFolder}): ` +
				'set HARNESS_HOMES_DIR to a folder without node_modules above it',
		);
	}
	fs.symlinkSync(userFolder, path.join(runDir, 'home'));
	const latest = path.join(RUNS_DIR, 'latest');
	try {
		fs.rmSync(latest, { force: true });
		fs.symlinkSync(name, latest);
	} catch {
		/* a concurrent run took it */
	}
	return { runDir, userFolder };
}

/** Deletes old runs and their user folders (keeps the newest `keep` and any still running). */
export function pruneRuns(keep = Number(process.env.HARNESS_KEEP_RUNS || 6)) {
	if (!fs.existsSync(RUNS_DIR)) return;
	const dirs = fs
		.readdirSync(RUNS_DIR)
		.filter((name) => name !== 'latest' && fs.lstatSync(path.join(RUNS_DIR, name)).isDirectory())
		.sort();
	for (const name of dirs.slice(0, Math.max(0, dirs.length - keep))) {
		const dir = path.join(RUNS_DIR, name);
		if (runIsAlive(dir)) continue;
		const home = path.join(dir, 'home');
		try {
			const target = fs.readlinkSync(home);
			if (target.startsWith(homesDir())) fs.rmSync(target, { recursive: true, force: true });
		} catch {
			/* no link */
		}
		fs.rmSync(dir, { recursive: true, force: true });
	}
	// User folders whose run folder is gone (say, after `git clean`), once they are an hour old.
	if (!fs.existsSync(homesDir())) return;
	for (const name of fs.readdirSync(homesDir())) {
		const home = path.join(homesDir(), name);
		if (fs.existsSync(path.join(RUNS_DIR, name))) continue;
		if (Date.now() - fs.statSync(home).mtimeMs < 3_600_000) continue;
		fs.rmSync(home, { recursive: true, force: true });
	}
}

function readRun(runDir) {
	try {
		return readJson(path.join(runDir, 'run.json'));
	} catch {
		return undefined;
	}
}

/** Whether the n8n recorded in a run folder is still running (same PID and start time). */
export function runIsAlive(runDir) {
	const run = readRun(runDir);
	if (!run?.pid) return false;
	const stat = procStat(run.pid);
	return Boolean(stat && stat.state !== 'Z' && stat.startTime === run.pidStartTime) || groupMembers(run.pid).length > 0;
}

/** Stops the n8n recorded in a run folder (by its PID / process group, after checking identity). */
export async function stopRun(runDir, { log = defaultLog } = {}) {
	const run = readRun(runDir);
	if (!run?.pid) return false;
	const stat = procStat(run.pid);
	const sameProcess = stat && stat.startTime === run.pidStartTime;
	// The group id is the recorded PID; a reused PID in another group is left alone.
	if (!sameProcess && !groupMembers(run.pid).length) return false;
	log(`stopping n8n (process group ${run.pid}) of ${runDir}`);
	const started = Date.now();
	// A queue-mode run (queue.mjs) lists its other processes' groups too: those first, the main last.
	for (const pgid of run.groups ?? []) if (pgid !== run.pid && groupMembers(pgid).length) await stopProcessGroup(pgid);
	await stopProcessGroup(run.pid);
	if (run.servicesDir) {
		for (const service of ['postgres', 'redis']) {
			await runCommand('bash', [path.join(REPO_ROOT, 'scripts', 'services', `${service}.sh`), 'stop', run.servicesDir]).catch(() => {});
		}
	}
	fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...run, stoppedAt: new Date().toISOString() }, null, 2));
	log(`stopped in ${seconds(Date.now() - started)}`);
	return true;
}

/** The last lines of a log file, for error messages ('' when it cannot be read). */
export function tailOf(file, lines = 30) {
	try {
		return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
	} catch {
		return '';
	}
}

/**
 * Starts a fresh n8n with the package installed and the workflows published.
 * @param {object} options
 * @param {string[]} [options.workflows] workflow JSON files or folders of them
 * @param {object[]} [options.credentials] `{ id, name, type, data }`, data decrypted
 * @param {Record<string,string>} [options.replacements] placeholder -> value, applied to workflow text
 * @param {Record<string,string>} [options.extraEnv] more environment for n8n
 * @param {number} [options.port] preferred port (a free one otherwise)
 * @param {string} [options.tarball] a package tarball to install instead of packing the repository
 * @param {boolean} [options.installPackage] false: start n8n without the package
 * @param {string[]} [options.extraTarballs] more community package tarballs to install beside it
 *   (the benchmark's no-op trigger package)
 * @param {number} [options.startTimeoutMs] for readiness plus webhooks (default 180 s)
 * @param {string} [options.logLevel] n8n's log level (default info)
 * @param {(msg: string) => void} [options.log] progress output (default: stderr)
 */
export async function start(options = {}) {
	const {
		workflows: inputs = [],
		credentials = [],
		replacements = {},
		extraEnv = {},
		installPackage: withPackage = true,
		startTimeoutMs = Number(process.env.HARNESS_START_TIMEOUT_MS || 180_000),
		logLevel = process.env.HARNESS_LOG_LEVEL || 'info',
		log = defaultLog,
	} = options;
	const t0 = Date.now();
	const timings = {};
	installExitHooks();
	const n8n = await ensureN8n({ log });
	timings.ensureN8n = Date.now() - t0;

	pruneRuns();
	const { runDir, userFolder } = newRunDir();
	const dbPath = path.join(userFolder, '.n8n', 'database.sqlite');
	const cliLog = path.join(runDir, 'cli.log');
	const n8nLog = path.join(runDir, 'n8n.log');
	log(`run folder ${path.relative(process.cwd(), runDir) || runDir}`);

	const workflows = normalizeWorkflows(workflowFiles(inputs), replacements);
	const encryptionKey = randomBytes(24).toString('hex');
	// The CLI commands listen on nothing; the ports are chosen right before `n8n start`.
	const cliEnv = n8nEnv({ n8n, userFolder, encryptionKey, logLevel, extraEnv });
	const cli = (args, timeoutMs = 180_000) =>
		runCommand(n8n.nodeBin, [n8n.n8nBin, ...args], { cwd: runDir, env: cliEnv, logFile: cliLog, timeoutMs });

	// The package install (npm) and n8n's CLI imports (about 6 s of boot each) run side by side.
	const installing = (async () => {
		if (!withPackage) return undefined;
		const t = Date.now();
		const tarball = options.tarball ?? (await packPackage({ destDir: path.join(runDir, 'pack'), logFile: cliLog }));
		const installed = await installPackage({ tarball, userFolder, n8n, logFile: cliLog });
		for (const extra of options.extraTarballs ?? []) {
			const other = await installPackage({ tarball: extra, userFolder, n8n, logFile: cliLog });
			log(`installed ${other.name}@${other.version} beside it`);
		}
		timings.package = Date.now() - t;
		log(`installed ${installed.name}@${installed.version} into the user folder's nodes (${seconds(timings.package)})`);
		return installed;
	})();
	const importing = (async () => {
		const t = Date.now();
		if (credentials.length) {
			const file = path.join(runDir, 'credentials.json');
			fs.writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
			try {
				await cli(['import:credentials', `--input=${file}`]);
			} finally {
				fs.rmSync(file, { force: true });
			}
			const imported = await query(dbPath, 'select id from credentials_entity');
			const missing = credentials.filter((c) => !imported.some((row) => row.id === c.id));
			if (missing.length) throw new Error(`credentials not imported: ${missing.map((c) => c.id).join(', ')} (see ${cliLog})`);
		}
		if (workflows.length) {
			const dir = path.join(runDir, 'workflows');
			fs.mkdirSync(dir, { recursive: true });
			for (const { __file, ...workflow } of workflows) {
				fs.writeFileSync(path.join(dir, `${workflow.id}.json`), JSON.stringify(workflow, null, 2));
			}
			await cli(['import:workflow', '--separate', `--input=${dir}`]);
			const imported = await query(dbPath, 'select id from workflow_entity');
			const missing = workflows.filter((w) => !imported.some((row) => row.id === w.id));
			if (missing.length) throw new Error(`workflows not imported: ${missing.map((w) => w.__file).join(', ')} (see ${cliLog})`);
			for (const workflow of workflows) await cli(['publish:workflow', `--id=${workflow.id}`]);
		}
		timings.importAndPublish = Date.now() - t;
		log(
			`imported ${credentials.length} credential(s), imported and published ${workflows.length} workflow(s) ` +
				`(${seconds(timings.importAndPublish)})`,
		);
	})();
	const [installed, imported] = await Promise.allSettled([installing, importing]);
	for (const result of [installed, imported]) if (result.status === 'rejected') throw result.reason;
	const pkg = installed.value;

	const port = await freePort(options.port);
	let brokerPort = await freePort();
	while (brokerPort === port) brokerPort = await freePort();
	const env = n8nEnv({ n8n, userFolder, port, brokerPort, encryptionKey, logLevel, extraEnv });
	const baseUrl = `http://127.0.0.1:${port}`;

	const t2 = Date.now();
	const out = fs.openSync(n8nLog, 'a');
	const child = spawn(n8n.nodeBin, [n8n.n8nBin, 'start'], { cwd: runDir, env, detached: true, stdio: ['ignore', out, out] });
	fs.closeSync(out);
	const pid = child.pid;
	liveGroups.add(pid);
	let exited;
	const exitedPromise = new Promise((resolve) => {
		child.on('exit', (code, signal) => {
			exited = { code, signal };
			resolve(exited);
		});
	});
	const run = {
		pid,
		pidStartTime: procStat(pid)?.startTime,
		port,
		brokerPort,
		baseUrl,
		runDir,
		userFolder,
		dbPath,
		n8nLog,
		cliLog,
		package: pkg && { name: pkg.name, version: pkg.version },
		workflows: workflows.map((w) => ({ id: w.id, name: w.name, file: path.relative(REPO_ROOT, w.__file) })),
		startedAt: new Date().toISOString(),
	};
	fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(run, null, 2));
	fs.writeFileSync(
		path.join(runDir, 'run.env'),
		Object.entries({ N8N_USER_FOLDER: userFolder, N8N_ENCRYPTION_KEY: encryptionKey, N8N_PORT: port })
			.map(([k, v]) => `${k}=${v}\n`)
			.join(''),
		{ mode: 0o600 },
	);

	let stopped;
	const stop = async () => {
		stopped ??= (async () => {
			const t = Date.now();
			await stopProcessGroup(pid);
			// The kernel lets go of the listening port a moment after the process is gone; wait for
			// that (briefly), so a caller restarting on the same port finds it free.
			for (let i = 0; i < 50 && (await freePort(port)) !== port; i++) await sleep(100);
			fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...run, stoppedAt: new Date().toISOString() }, null, 2));
			log(`n8n stopped (${seconds(Date.now() - t)})`);
		})();
		return stopped;
	};

	try {
		const deadline = Date.now() + startTimeoutMs;
		const alive = () => {
			if (exited) {
				throw new Error(`n8n exited (${exited.code ?? exited.signal}) before it was ready; log ${n8nLog}:\n${tailOf(n8nLog)}`);
			}
		};
		const timeLeft = (what) => {
			if (Date.now() > deadline) throw new Error(`timed out after ${seconds(startTimeoutMs)} waiting for ${what}; log ${n8nLog}:\n${tailOf(n8nLog)}`);
		};
		while ((await httpStatus(`${baseUrl}/healthz/readiness`, { timeoutMs: 2_000 })) !== 200) {
			alive();
			timeLeft('/healthz/readiness');
			await sleep(250);
		}
		timings.readiness = Date.now() - t2;
		log(`n8n ready on ${baseUrl} (${seconds(timings.readiness)} after spawn)`);

		// Webhooks register asynchronously after readiness (publication outbox): poll them.
		const expected = workflows.filter((w) => w.nodes.some(isWebhookNode)).map((w) => w.id);
		let webhooks = [];
		// n8n inserts a workflow's webhooks one by one: only a set that stayed the same over a second
		// of polls is complete (a trigger may register more paths than its first one).
		let stableSince = 0;
		let lastSet = '';
		for (;;) {
			alive();
			const failed = await query(
				dbPath,
				`select * from workflow_publication_outbox where status in ('failed', 'partial_success')`,
			);
			if (failed.length) {
				const details = failed.map((row) => `${row.workflowId}: ${row.errorMessage ?? JSON.stringify(row)}`).join('\n');
				throw new Error(`publishing failed in n8n:\n${details}\nlog ${n8nLog}:\n${tailOf(n8nLog, 15)}`);
			}
			const stored = await query(dbPath, 'select count(*) as n from workflow_entity');
			if (workflows.length && !stored[0]?.n) {
				throw new EmptyDatabaseError(
					`n8n started on a database without the ${workflows.length} imported workflow(s): the user folder's ` +
						`database was replaced between import and start (log ${n8nLog})`,
				);
			}
			webhooks = await query(dbPath, 'select workflowId, webhookPath, method, node, webhookId from webhook_entity');
			const registered = new Set(webhooks.map((hook) => hook.workflowId));
			const set = webhooks.map((hook) => `${hook.method} ${hook.webhookPath}`).sort().join('\n');
			if (set !== lastSet) {
				lastSet = set;
				stableSince = Date.now();
			}
			if (expected.every((id) => registered.has(id))) {
				const statuses = await Promise.all(webhooks.map((hook) => preflight(baseUrl, hook)));
				if (statuses.every((status) => status === 204) && Date.now() - stableSince >= 1000) break;
			}
			timeLeft(`the webhooks of ${expected.filter((id) => !registered.has(id)).join(', ') || 'all workflows'} to answer`);
			await sleep(250);
		}
		timings.webhooks = Date.now() - t2;
		timings.total = Date.now() - t0;
		log(`${webhooks.length} webhook(s) answering ${seconds(timings.webhooks)} after spawn; ${seconds(timings.total)} in all`);
		Object.assign(run, { webhooks, timings });
		fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(run, null, 2));
		return {
			...run,
			webhooks: webhooks.map((hook) => ({ ...hook, url: `${baseUrl}/webhook/${hook.webhookPath}` })),
			timings,
			env,
			stop,
			/**
			 * Stops this n8n (SIGTERM, as a normal shutdown) and starts `n8n start` again on the same
			 * user folder, database, port and settings; resolves with the new run once it is ready and
			 * the same webhooks answer. `whileStopped` (async) runs between the stop and the start. The
			 * returned run has its own stop() and restart().
			 */
			restart: (restartOptions = {}) => restartRun({ ...run, webhooks, timings, env, stop }, { log, startTimeoutMs, ...restartOptions }),
			/** Resolves with `{ code, signal }` when the n8n process exits (for whatever reason). */
			exited: exitedPromise,
			/** Leaves n8n running when this process exits (stop it later with `harness.mjs stop <runDir>`). */
			detach: () => {
				child.unref();
				liveGroups.delete(pid);
			},
			query: (sql, ...params) => query(dbPath, sql, ...params),
		};
	} catch (error) {
		await stop().catch(() => {});
		throw error;
	}
}

/**
 * See `restart` on what start() returns: stops `run` and starts n8n again in the same run folder
 * (same user folder, database, encryption key and port); waits for readiness and for the webhooks
 * the first start registered. run.json records the new process.
 */
async function restartRun(previous, { log = defaultLog, startTimeoutMs = 180_000, whileStopped } = {}) {
	await previous.stop();
	// What happens while n8n is down (a batch writing to the store, say).
	await whileStopped?.();
	const { runDir, baseUrl, env, n8nLog, dbPath } = previous;
	const n8n = await ensureN8n({ log });
	const t0 = Date.now();
	const out = fs.openSync(n8nLog, 'a');
	const child = spawn(n8n.nodeBin, [n8n.n8nBin, 'start'], { cwd: runDir, env, detached: true, stdio: ['ignore', out, out] });
	fs.closeSync(out);
	const pid = child.pid;
	liveGroups.add(pid);
	let exited;
	const exitedPromise = new Promise((resolve) => {
		child.on('exit', (code, signal) => {
			exited = { code, signal };
			resolve(exited);
		});
	});
	const run = { ...readRun(runDir), pid, pidStartTime: procStat(pid)?.startTime, restartedAt: new Date().toISOString() };
	delete run.stoppedAt;
	fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(run, null, 2));
	let stopped;
	const stop = async () => {
		stopped ??= (async () => {
			const t = Date.now();
			await stopProcessGroup(pid);
			for (let i = 0; i < 50 && (await freePort(previous.port)) !== previous.port; i++) await sleep(100);
			fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...run, stoppedAt: new Date().toISOString() }, null, 2));
			log(`n8n stopped (${seconds(Date.now() - t)})`);
		})();
		return stopped;
	};
	try {
		const deadline = Date.now() + startTimeoutMs;
		const check = (what) => {
			if (exited) throw new Error(`n8n exited (${exited.code ?? exited.signal}) after a restart; log ${n8nLog}:\n${tailOf(n8nLog)}`);
			if (Date.now() > deadline) throw new Error(`timed out after ${seconds(startTimeoutMs)} waiting for ${what} after a restart; log ${n8nLog}:\n${tailOf(n8nLog)}`);
		};
		while ((await httpStatus(`${baseUrl}/healthz/readiness`, { timeoutMs: 2_000 })) !== 200) {
			check('/healthz/readiness');
			await sleep(250);
		}
		for (;;) {
			const statuses = await Promise.all(previous.webhooks.map((hook) => preflight(baseUrl, hook)));
			if (statuses.every((status) => status === 204)) break;
			check('the webhooks to answer');
			await sleep(250);
		}
		log(`n8n restarted on ${baseUrl}: ready with ${previous.webhooks.length} webhook(s) in ${seconds(Date.now() - t0)}`);
		const restarted = {
			...previous,
			pid,
			pidStartTime: run.pidStartTime,
			stop,
			exited: exitedPromise,
			query: (sql, ...params) => query(dbPath, sql, ...params),
		};
		restarted.restart = (options = {}) => restartRun(restarted, { log, startTimeoutMs, ...options });
		return restarted;
	} catch (error) {
		await stop().catch(() => {});
		throw error;
	}
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

async function main(argv) {
	const [command = 'help', ...rest] = argv;
	if (Number(process.versions.node.split('.')[0]) < 24 && !['stop', 'stop-all', 'status', 'help'].includes(command)) {
		throw new Error(`Node ${process.version}: run the harness with Node 24 (node_modules/.bin/node)`);
	}
	const flags = Object.fromEntries(
		rest.filter((a) => a.startsWith('--')).map((a) => {
			const [k, v] = a.slice(2).split('=');
			return [k, v ?? true];
		}),
	);
	const args = rest.filter((a) => !a.startsWith('--'));
	switch (command) {
		case 'install': {
			const n8n = await ensureN8n();
			console.log(n8n.cacheDir);
			return;
		}
		case 'start': {
			const credential = flags['demo-credential'] ? demoCredential(flags['api-key'] === true ? undefined : flags['api-key']) : undefined;
			const run = await start({
				workflows: args,
				credentials: credential ? [credential] : [],
				port: flags.port ? Number(flags.port) : undefined,
			});
			console.log(`BASE_URL=${run.baseUrl}`);
			console.log(`RUN_DIR=${run.runDir}`);
			console.log(`PID=${run.pid}`);
			for (const hook of run.webhooks) console.log(`WEBHOOK=${hook.method} ${hook.url}`);
			if (credential) console.log(`API_KEY=${credential.data.apiKey}`);
			if (flags.detach) {
				run.detach();
				console.log(`STOP: node ${path.relative(process.cwd(), fileURLToPath(import.meta.url))} stop ${run.runDir}`);
				return;
			}
			console.log('Ctrl-C stops n8n.');
			await new Promise(() => {}); // the signal handlers stop n8n and exit
			return;
		}
		case 'stop': {
			const runDir = path.resolve(args[0] ?? path.join(RUNS_DIR, 'latest'));
			if (!(await stopRun(runDir))) console.log(`nothing running for ${runDir}`);
			return;
		}
		case 'stop-all': {
			if (!fs.existsSync(RUNS_DIR)) return;
			for (const name of fs.readdirSync(RUNS_DIR)) {
				if (name === 'latest') continue;
				await stopRun(path.join(RUNS_DIR, name));
			}
			return;
		}
		case 'status': {
			if (!fs.existsSync(RUNS_DIR)) return;
			for (const name of fs.readdirSync(RUNS_DIR).sort()) {
				if (name === 'latest') continue;
				const run = readRun(path.join(RUNS_DIR, name));
				const alive = runIsAlive(path.join(RUNS_DIR, name));
				console.log(`${name}  ${alive ? `RUNNING pid ${run.pid} ${run.baseUrl}` : 'stopped'}`);
			}
			return;
		}
		default:
			console.log(
				[
					'usage: node scripts/n8n/harness.mjs <command>',
					'  install                                   install the pinned n8n into the cache',
					'  start [--demo-credential] [--detach] [--port=N] <workflow.json|dir>...',
					'  stop [<runDir>]                           stop a run (default: the latest)',
					'  stop-all                                  stop every run of this checkout',
					'  status                                    list runs',
				].join('\n'),
			);
	}
}

const invokedDirectly = () => {
	try {
		return import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
	} catch {
		return false;
	}
};
if (invokedDirectly()) {
	main(process.argv.slice(2)).catch((error) => {
		console.error(`[n8n-harness] ${error.message}`);
		process.exit(1);
	});
}
