/**
 * Global set-up of the e2e suite (node --test --test-global-setup): ONE real n8n for every test
 * file, started by scripts/n8n/harness.mjs with the package installed from its packed tarball,
 * the demo API-key credential, every workflow in examples/ and test/e2e/fixtures/ published, and a
 * local receiver for the requests workflows send out (on a free port: the workflows' 127.0.0.1:18080
 * is rewritten to it). Test files (child processes) find it through
 * the E2E_* environment variables set here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
	demoCredential,
	EmptyDatabaseError,
	EXAMPLE_RECEIVER_URL,
	groupMembers,
	REPO_ROOT,
	start,
	startReceiver,
} from '../../scripts/n8n/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let run;
let receiver;

export async function globalSetup() {
	const t0 = Date.now();
	receiver = await startReceiver();
	const credential = demoCredential();
	const options = {
		workflows: [path.join(REPO_ROOT, 'examples'), path.join(here, 'fixtures')],
		credentials: [credential],
		replacements: { [EXAMPLE_RECEIVER_URL]: receiver.url },
	};
	try {
		run = await start(options);
	} catch (error) {
		// Seen once while another checkout's e2e run was cleaning up on the same machine: n8n came up
		// on an empty database. That start is repeated once in a fresh run folder; anything else fails.
		if (!(error instanceof EmptyDatabaseError)) throw error;
		process.stderr.write(`[e2e] ${error.message}; starting once more\n`);
		run = await start(options);
	}
	Object.assign(process.env, {
		E2E_BASE_URL: run.baseUrl,
		E2E_RUN_DIR: run.runDir,
		E2E_DB_PATH: run.dbPath,
		E2E_N8N_LOG: run.n8nLog,
		E2E_API_KEY: credential.data.apiKey,
		E2E_RECEIVER_URL: receiver.url,
		E2E_PID: String(run.pid),
		E2E_WEBHOOKS: JSON.stringify(run.webhooks),
	});
	process.stderr.write(
		`[e2e] n8n ${run.baseUrl} ready for the suite in ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
			`(timings ms: ${JSON.stringify(run.timings)})\n`,
	);
}

export async function globalTeardown() {
	await receiver?.close();
	if (!run) return;
	await run.stop();
	const left = groupMembers(run.pid);
	if (left.length) throw new Error(`n8n's process group ${run.pid} still has processes: ${left.join(', ')}`);
}
