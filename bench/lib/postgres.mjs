/**
 * A PostgreSQL server for the benchmark: BENCH_PG_URL when given, otherwise a throwaway cluster
 * (initdb + pg_ctl from PostgreSQL's bin folder, on a free port on 127.0.0.1, in a temporary folder,
 * run as the `postgres` user when this runs as root), stopped and removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

function pgBin() {
	for (const dir of ['/usr/lib/postgresql']) {
		if (!existsSync(dir)) continue;
		const versions = readdirSync(dir).sort((a, b) => Number(b) - Number(a));
		for (const version of versions) {
			const bin = join(dir, version, 'bin');
			if (existsSync(join(bin, 'initdb'))) return bin;
		}
	}
	return undefined;
}

const freePort = () =>
	new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});

/** Calls `fn(pg, url)`; `fn(undefined, reason)` when no server can be had. */
export async function withPostgres(_options, fn) {
	const pg = require('pg');
	if (process.env.BENCH_PG_URL) return await fn(pg, process.env.BENCH_PG_URL);
	const bin = pgBin();
	if (!bin) return await fn(undefined, 'no PostgreSQL server (set BENCH_PG_URL, or install PostgreSQL)');
	const dir = mkdtempSync(join(tmpdir(), 'profile-bench-pg-'));
	const asRoot = process.getuid?.() === 0;
	const run = (cmd, args) =>
		asRoot
			? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe' })
			: execFileSync(join(bin, cmd), args, { stdio: 'pipe' });
	const data = join(dir, 'data');
	let started = false;
	try {
		chmodSync(dir, 0o755);
		if (asRoot) {
			const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
			const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
			chownSync(dir, uid, gid);
		}
		run('initdb', ['-D', data, '-U', 'bench', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
		const port = await freePort();
		run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=on -c synchronous_commit=on`, 'start']);
		started = true;
		return await fn(pg, `postgres://bench@127.0.0.1:${port}/postgres`);
	} catch (error) {
		if (!started) return await fn(undefined, `could not start a PostgreSQL server: ${error.message.split('\n')[0]}`);
		throw error;
	} finally {
		if (started) {
			try {
				run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
			} catch {
				/* reported by the missing results */
			}
		}
		rmSync(dir, { recursive: true, force: true });
	}
}
