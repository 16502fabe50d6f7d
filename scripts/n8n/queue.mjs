#!/usr/bin/env node
/**
 * n8n in QUEUE MODE for the e2e suite and by hand: PostgreSQL (n8n's database and the profile
 * store, one private cluster), Redis, one main, N webhook processes and one worker, each process
 * with its own user folder holding the package (the recipe of the shared notes on queue mode).
 *
 * What `startQueue()` does, in order:
 *  1. starts PostgreSQL and Redis on free ports with scripts/services/*.sh under a folder outside the
 *     repository (fsync on: an acknowledged commit is on disk), creates the `n8n` database;
 *  2. packs the package and installs it once into the main's user folder (as harness.mjs does); the
 *     other processes' user folders link to it;
 *  3. imports the credentials and workflows with n8n's CLI into PostgreSQL and publishes them;
 *  4. starts main, webhook processes and worker, waits for each one's readiness, then until every
 *     webhook answers a CORS preflight with 204 on every webhook process.
 *
 * The single-instance harness (harness.mjs) is unchanged; this file only uses its exports.
 * Stop: `run.stop()`; `harness.mjs stop-all` also stops a queue run (run.json lists its groups).
 *
 * CLI (Node 24):  node scripts/n8n/queue.mjs start [--webhooks=N] <workflow.json|dir>...
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';

import {
	ensureN8n,
	freePort,
	homesDir,
	installPackage,
	n8nEnv,
	normalizeWorkflows,
	packPackage,
	preflight,
	pruneRuns,
	REPO_ROOT,
	RUNS_DIR,
	runCommand,
	stopProcessGroup,
	groupMembers,
	tailOf,
	workflowFiles,
} from './harness.mjs';

const execFileAsync = promisify(execFile);
const require = createRequire(import.meta.url);
const { Client } = require('pg');

const SERVICES = path.join(REPO_ROOT, 'scripts', 'services');
const defaultLog = (msg) => process.stderr.write(`[n8n-queue] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function parseEnvLines(text) {
	return Object.fromEntries(
		text
			.split('\n')
			.map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
			.filter(Boolean)
			.map((m) => [m[1], m[2]]),
	);
}

/** Starts PostgreSQL and Redis under `dir`; returns their settings and a stop function. */
export async function startServices(dir, { log = defaultLog } = {}) {
	const t = Date.now();
	const pg = parseEnvLines((await execFileAsync('bash', [path.join(SERVICES, 'postgres.sh'), 'start', dir])).stdout);
	const redis = parseEnvLines((await execFileAsync('bash', [path.join(SERVICES, 'redis.sh'), 'start', dir])).stdout);
	const services = {
		dir,
		pgPort: Number(pg.PGPORT),
		pgUser: pg.PGUSER,
		pgBin: pg.PGBIN,
		profilesUrl: pg.PROFILE_STORE_PG_URL,
		redisPort: Number(redis.REDIS_PORT),
		stop: async () => {
			await execFileAsync('bash', [path.join(SERVICES, 'postgres.sh'), 'stop', dir]).catch(() => {});
			await execFileAsync('bash', [path.join(SERVICES, 'redis.sh'), 'stop', dir]).catch(() => {});
		},
	};
	const client = new Client({ host: '127.0.0.1', port: services.pgPort, user: services.pgUser, database: 'postgres' });
	await client.connect();
	try {
		const { rows } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'n8n'");
		if (!rows.length) await client.query('CREATE DATABASE n8n');
	} finally {
		await client.end();
	}
	log(`PostgreSQL on 127.0.0.1:${services.pgPort}, Redis on 127.0.0.1:${services.redisPort} (${seconds(Date.now() - t)})`);
	return services;
}

/** Rows of a query on one of the cluster's databases. */
export async function pgQuery(services, database, sql, params = []) {
	const client = new Client({ host: '127.0.0.1', port: services.pgPort, user: services.pgUser, database });
	await client.connect();
	try {
		return (await client.query(sql, params)).rows;
	} finally {
		await client.end();
	}
}

function httpStatus(url, timeoutMs = 2_000) {
	return new Promise((resolve) => {
		const req = http.request(url, { timeout: timeoutMs }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', () => resolve(0));
		req.end();
	});
}

/**
 * Starts the stack. Options: workflows (files or folders), workflowObjects (already normalized-able
 * objects), credentials, webhookProcesses (default 2), workerConcurrency, extraEnv, log,
 * expectFailedPublications (workflow ids whose publication is expected to fail: not waited for).
 */
export async function startQueue(options = {}) {
	const {
		workflows: inputs = [],
		credentials = [],
		webhookProcesses = 2,
		extraEnv = {},
		expectFailedPublications = [],
		startTimeoutMs = Number(process.env.HARNESS_START_TIMEOUT_MS || 240_000),
		logLevel = process.env.HARNESS_LOG_LEVEL || 'info',
		log = defaultLog,
	} = options;
	const t0 = Date.now();
	const timings = {};
	const n8n = await ensureN8n({ log });
	pruneRuns();
	const name = `queue-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
	const runDir = path.join(RUNS_DIR, name);
	const home = path.join(homesDir(), name);
	fs.mkdirSync(runDir, { recursive: true });
	fs.mkdirSync(home, { recursive: true });
	fs.symlinkSync(home, path.join(runDir, 'home'));
	log(`run folder ${path.relative(process.cwd(), runDir) || runDir}`);

	const groups = new Map(); // role -> { pid, exited }
	const servicesDir = path.join(home, 'services');
	const runJson = () => ({
		pid: groups.get('main')?.pid,
		groups: [...groups.values()].map((g) => g.pid),
		servicesDir,
		runDir,
		home,
		startedAt: new Date(t0).toISOString(),
	});
	const writeRun = (extra = {}) => fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...runJson(), ...extra }, null, 2));

	writeRun();
	const services = await startServices(servicesDir, { log });
	timings.services = Date.now() - t0;
	const encryptionKey = randomBytes(24).toString('hex');
	const queueEnv = {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: '127.0.0.1',
		DB_POSTGRESDB_PORT: String(services.pgPort),
		DB_POSTGRESDB_DATABASE: 'n8n',
		DB_POSTGRESDB_USER: services.pgUser,
		DB_POSTGRESDB_PASSWORD: '',
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(services.redisPort),
		// lastNode answers wait on Bull's finished sets: keep the jobs findable (see the notes).
		N8N_EXECUTIONS_QUEUE_KEEP_LAST_COMPLETED: '1000',
		N8N_EXECUTIONS_QUEUE_KEEP_LAST_FAILED: '1000',
		...extraEnv,
	};
	const folder = (role) => {
		const dir = path.join(home, role);
		fs.mkdirSync(path.join(dir, '.n8n'), { recursive: true });
		return dir;
	};
	const mainFolder = folder('main');
	const cliLog = path.join(runDir, 'cli.log');
	const cliEnv = n8nEnv({ n8n, userFolder: mainFolder, encryptionKey, logLevel, extraEnv: queueEnv });
	const cli = (args) => runCommand(n8n.nodeBin, [n8n.n8nBin, ...args], { cwd: runDir, env: cliEnv, logFile: cliLog, timeoutMs: 180_000 });

	const workflows = normalizeWorkflows(workflowFiles(inputs));
	const stop = async () => {
		const t = Date.now();
		// Webhook processes and the worker first, the main last; each group SIGTERM then SIGKILL.
		const order = [...groups.keys()].sort((a, b) => (a === 'main') - (b === 'main'));
		await Promise.all(order.filter((r) => r !== 'main').map((r) => stopProcessGroup(groups.get(r).pid).catch(() => {})));
		if (groups.has('main')) await stopProcessGroup(groups.get('main').pid).catch(() => {});
		await services.stop();
		writeRun({ stoppedAt: new Date().toISOString() });
		log(`queue stack stopped (${seconds(Date.now() - t)})`);
	};

	try {
		const installing = (async () => {
			const t = Date.now();
			const tarball = options.tarball ?? (await packPackage({ destDir: path.join(runDir, 'pack'), logFile: cliLog }));
			const installed = await installPackage({ tarball, userFolder: mainFolder, n8n, logFile: cliLog });
			timings.package = Date.now() - t;
			log(`installed ${installed.name}@${installed.version} (${seconds(timings.package)})`);
			return installed;
		})();
		const importing = (async () => {
			const t = Date.now();
			// A function gets the services first (a store credential needs PostgreSQL's port).
			const credentialList = typeof credentials === 'function' ? credentials(services) : credentials;
			if (credentialList.length) {
				const file = path.join(runDir, 'credentials.json');
				fs.writeFileSync(file, JSON.stringify(credentialList, null, 2), { mode: 0o600 });
				try {
					await cli(['import:credentials', `--input=${file}`]);
				} finally {
					fs.rmSync(file, { force: true });
				}
			}
			if (workflows.length) {
				const dir = path.join(runDir, 'workflows');
				fs.mkdirSync(dir, { recursive: true });
				for (const { __file, ...workflow } of workflows) fs.writeFileSync(path.join(dir, `${workflow.id}.json`), JSON.stringify(workflow, null, 2));
				await cli(['import:workflow', '--separate', `--input=${dir}`]);
			}
			timings.import = Date.now() - t;
		})();
		const [installed, imported] = await Promise.allSettled([installing, importing]);
		for (const result of [installed, imported]) if (result.status === 'rejected') throw result.reason;
		const pkg = installed.value;
		// Publishing loads the nodes: the package must be in place first.
		const tp = Date.now();
		for (const workflow of workflows) await cli(['publish:workflow', `--id=${workflow.id}`]);
		timings.publish = Date.now() - tp;
		log(`imported the credentials and ${workflows.length} workflow(s), published (${seconds(timings.import + timings.publish)})`);

		// The other processes load the same installed package through a link in their own folder.
		const linkPackage = (userFolder) => {
			const nodes = path.join(userFolder, '.n8n', 'nodes');
			fs.mkdirSync(path.join(nodes, 'node_modules'), { recursive: true });
			fs.copyFileSync(path.join(mainFolder, '.n8n', 'nodes', 'package.json'), path.join(nodes, 'package.json'));
			fs.symlinkSync(pkg.packageDir, path.join(nodes, 'node_modules', pkg.name));
		};

		const spawnRole = async (role, command, { port, brokerPort, env: ownEnv = {} }) => {
			const userFolder = role === 'main' ? mainFolder : folder(role);
			if (role !== 'main' && !fs.existsSync(path.join(userFolder, '.n8n', 'nodes', 'node_modules'))) linkPackage(userFolder);
			const env = n8nEnv({ n8n, userFolder, port, brokerPort, encryptionKey, logLevel, extraEnv: { ...queueEnv, ...ownEnv } });
			const logFile = path.join(runDir, `${role}.log`);
			const out = fs.openSync(logFile, 'a');
			const child = spawn(n8n.nodeBin, [n8n.n8nBin, command], { cwd: userFolder, env, detached: true, stdio: ['ignore', out, out] });
			fs.closeSync(out);
			const entry = { role, pid: child.pid, port, logFile, exited: undefined };
			child.on('exit', (code, signal) => {
				entry.exited = { code, signal };
			});
			groups.set(role, entry);
			writeRun();
			return entry;
		};

		const ports = new Set();
		const newPort = async () => {
			let port;
			do port = await freePort();
			while (ports.has(port));
			ports.add(port);
			return port;
		};
		const mainPort = await newPort();
		const mainBroker = await newPort();
		const webhookPorts = [];
		for (let i = 0; i < webhookProcesses; i++) webhookPorts.push(await newPort());
		const workerBroker = await newPort();
		const workerHealth = await newPort();

		const workerSpec = {
			brokerPort: workerBroker,
			env: { QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(workerHealth), N8N_WORKER_SERVER_ADDRESS: '127.0.0.1' },
		};
		const t2 = Date.now();
		await spawnRole('main', 'start', { port: mainPort, brokerPort: mainBroker });
		for (let i = 0; i < webhookProcesses; i++) await spawnRole(`webhook${i + 1}`, 'webhook', { port: webhookPorts[i], brokerPort: await newPort() });
		await spawnRole('worker', 'worker', workerSpec);

		const deadline = Date.now() + startTimeoutMs;
		const check = (what) => {
			for (const g of groups.values()) {
				if (g.exited) throw new Error(`${g.role} exited (${g.exited.code ?? g.exited.signal}) while waiting for ${what}; log ${g.logFile}:\n${tailOf(g.logFile, 25)}`);
			}
			if (Date.now() > deadline) throw new Error(`timed out after ${seconds(startTimeoutMs)} waiting for ${what}`);
		};
		const readinessUrls = [
			`http://127.0.0.1:${mainPort}/healthz/readiness`,
			...webhookPorts.map((p) => `http://127.0.0.1:${p}/healthz/readiness`),
			`http://127.0.0.1:${workerHealth}/healthz/readiness`,
		];
		for (const url of readinessUrls) {
			while ((await httpStatus(url)) !== 200) {
				check(url);
				await sleep(250);
			}
		}
		timings.readiness = Date.now() - t2;
		log(`main, ${webhookProcesses} webhook process(es) and the worker ready (${seconds(timings.readiness)} after spawn)`);

		const n8nDb = (sql, params) => pgQuery(services, 'n8n', sql, params);
		const expected = workflows.filter((w) => !expectFailedPublications.includes(w.id) && w.nodes.some((n) => typeof n.parameters?.path === 'string')).map((w) => w.id);
		let webhooks = [];
		for (;;) {
			check('the webhooks');
			const failed = await n8nDb(`SELECT "workflowId", "errorMessage", status FROM workflow_publication_outbox WHERE status IN ('failed', 'partial_success')`).catch(() => []);
			const unexpected = failed.filter((row) => !expectFailedPublications.includes(row.workflowId));
			if (unexpected.length) throw new Error(`publishing failed in n8n:\n${unexpected.map((r) => `${r.workflowId}: ${r.errorMessage}`).join('\n')}`);
			webhooks = await n8nDb('SELECT "workflowId", "webhookPath", method, node FROM webhook_entity').catch(() => []);
			const registered = new Set(webhooks.map((h) => h.workflowId));
			if (expected.every((id) => registered.has(id))) {
				const statuses = await Promise.all(
					webhookPorts.flatMap((p) => webhooks.map((hook) => preflight(`http://127.0.0.1:${p}`, hook))),
				);
				if (statuses.every((s) => s === 204)) break;
			}
			await sleep(250);
		}
		timings.webhooks = Date.now() - t2;
		timings.total = Date.now() - t0;
		log(`${webhooks.length} webhook(s) answering on every webhook process, ${seconds(timings.total)} in all`);
		writeRun({ timings, ports: { main: mainPort, webhooks: webhookPorts, workerHealth } });

		const worker = {
			/** SIGKILL to the worker's whole process group (the worker and its task runner). */
			kill: async () => {
				const g = groups.get('worker');
				process.kill(-g.pid, 'SIGKILL');
				for (let i = 0; i < 100 && groupMembers(g.pid).length; i++) await sleep(100);
			},
			start: async () => {
				const t = Date.now();
				const entry = await spawnRole('worker', 'worker', workerSpec);
				const url = `http://127.0.0.1:${workerHealth}/healthz/readiness`;
				while ((await httpStatus(url)) !== 200) {
					if (entry.exited) throw new Error(`the worker exited (${entry.exited.code ?? entry.exited.signal}); log ${entry.logFile}:\n${tailOf(entry.logFile, 25)}`);
					if (Date.now() - t > startTimeoutMs) throw new Error(`the restarted worker was not ready within ${seconds(startTimeoutMs)}`);
					await sleep(200);
				}
				return Date.now() - t;
			},
		};

		return {
			runDir,
			home,
			services,
			timings,
			mainUrl: `http://127.0.0.1:${mainPort}`,
			webhookUrls: webhookPorts.map((p) => `http://127.0.0.1:${p}`),
			webhooks,
			logs: Object.fromEntries([...groups.values()].map((g) => [g.role, g.logFile])),
			n8nDb,
			profilesDb: (sql, params) => pgQuery(services, 'profiles', sql, params),
			worker,
			stop,
		};
	} catch (error) {
		await stop().catch(() => {});
		throw error;
	}
}

async function main(argv) {
	const [command, ...rest] = argv;
	if (command !== 'start') {
		console.log('usage: node scripts/n8n/queue.mjs start [--webhooks=N] <workflow.json|dir>...');
		return;
	}
	const webhooks = Number(rest.find((a) => a.startsWith('--webhooks='))?.split('=')[1] ?? 2);
	const run = await startQueue({ workflows: rest.filter((a) => !a.startsWith('--')), webhookProcesses: webhooks });
	console.log(`MAIN=${run.mainUrl}`);
	for (const url of run.webhookUrls) console.log(`WEBHOOK_PROCESS=${url}`);
	console.log(`PROFILE_STORE_PG_URL=${run.services.profilesUrl}`);
	console.log('Ctrl-C stops the stack.');
	const shutdown = () => void run.stop().finally(() => process.exit(0));
	process.on('SIGINT', shutdown);
	process.on('SIGTERM', shutdown);
	await new Promise(() => {});
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
		console.error(`[n8n-queue] ${error.message}`);
		process.exit(1);
	});
}
