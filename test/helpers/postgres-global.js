'use strict';
/**
 * Jest global set-up and tear-down: the PostgreSQL the store tests run against.
 *
 * - PROFILE_STORE_PG_URL set (CI's .ci/run, or by hand): used as it is.
 * - Otherwise, when PostgreSQL's binaries are installed: a private cluster is started under a
 *   temporary folder with scripts/services/postgres.sh and stopped after the run.
 * - Otherwise the PostgreSQL tests are skipped with a notice, except under CI=true, where the run
 *   fails: in CI they must run.
 */
const { execFileSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'services', 'postgres.sh');

function parseEnvLines(text) {
	const env = {};
	for (const line of text.split('\n')) {
		const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
		if (match) env[match[1]] = match[2];
	}
	return env;
}

async function setup() {
	if (process.env.PROFILE_STORE_PG_URL) return;
	const dir = mkdtempSync(join(tmpdir(), 'profile-store-pg-'));
	try {
		const out = execFileSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
		const env = parseEnvLines(out);
		process.env.PROFILE_STORE_PG_URL = env.PROFILE_STORE_PG_URL;
		process.env.PROFILE_STORE_PG_BIN = env.PGBIN;
		process.env.PROFILE_STORE_PG_STARTED_DIR = dir;
	} catch (error) {
		rmSync(dir, { recursive: true, force: true });
		const why = String(error.stderr || error.message).trim();
		if (process.env.CI === 'true') {
			throw new Error(`CI=true and PostgreSQL cannot be started for the store tests: ${why}`);
		}
		process.stderr.write(`\n[postgres] PostgreSQL tests SKIPPED: ${why}\n`);
	}
}

async function teardown() {
	const dir = process.env.PROFILE_STORE_PG_STARTED_DIR;
	if (!dir) return;
	try {
		execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'inherit' });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

module.exports = { setup, teardown, parseEnvLines };
