#!/usr/bin/env node
/**
 * `npm run demo`: a real n8n 2.x on this machine with this package installed (from its packed
 * tarball), every workflow in examples/ published, a demo API-key credential and a local receiver
 * that prints the requests workflows send out. Prints what to open and a curl command to try.
 * Ctrl-C stops everything. Everything listens on 127.0.0.1 only.
 *
 *   DEMO_PORT     preferred n8n port (default 5678; a free one when taken)
 *   DEMO_RECEIVER_PORT  preferred receiver port (default 18080, where the examples send; when taken,
 *                 a free one, and the examples are rewritten to it on import)
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';

import {
	demoCredential,
	ensureN8n,
	EXAMPLE_RECEIVER_URL,
	freePort,
	REPO_ROOT,
	start,
	startReceiver,
} from './harness.mjs';

const out = (line = '') => process.stdout.write(`${line}\n`);

const receiver = await startReceiver({
	port: await freePort(Number(process.env.DEMO_RECEIVER_PORT || new URL(EXAMPLE_RECEIVER_URL).port)),
	onRequest: ({ at, method, url, headers, body }) => {
		out(`\n[receiver ${at}] ${method} ${url}`);
		if (headers['content-type']) out(`  content-type: ${headers['content-type']}`);
		let pretty = body;
		try {
			pretty = JSON.stringify(JSON.parse(body), null, 2);
		} catch {
			/* not JSON */
		}
		if (pretty) out(pretty.replace(/^/gm, '  '));
	},
});

const n8n = await ensureN8n();
// A local owner account, so the editor opens on a login instead of the owner set-up form.
const ownerEmail = 'demo@example.com';
const ownerPassword = `Demo-${randomBytes(6).toString('base64url')}1`;
const bcrypt = createRequire(path.join(n8n.nodeModules, 'n8n', 'package.json'))('bcryptjs');

const credential = demoCredential();
let run;
try {
	run = await start({
		workflows: [path.join(REPO_ROOT, 'examples')],
		credentials: [credential],
		replacements: { [EXAMPLE_RECEIVER_URL]: receiver.url },
		port: Number(process.env.DEMO_PORT || 5678),
		extraEnv: {
			N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
			N8N_INSTANCE_OWNER_EMAIL: ownerEmail,
			N8N_INSTANCE_OWNER_FIRST_NAME: 'Demo',
			N8N_INSTANCE_OWNER_LAST_NAME: 'User',
			N8N_INSTANCE_OWNER_PASSWORD_HASH: bcrypt.hashSync(ownerPassword, 10),
		},
	});
} catch (error) {
	process.stderr.write(`\nThe demo could not start n8n: ${error.message}\n`);
	await receiver.close();
	process.exit(1);
}

const key = credential.data;
const curl = (hookPath, email, body) => [
	`curl -sS -X POST '${run.baseUrl}/webhook/${hookPath}?property=email&email=${encodeURIComponent(email)}' \\`,
	`    -H '${key.headerName}: ${key.apiKey}' -H 'Content-Type: application/json' \\`,
	`    -d '${JSON.stringify(body)}'`,
];
const hasHook = (hookPath) => run.webhooks.some((h) => h.webhookPath === hookPath);

out('');
out('n8n with n8n-nodes-profile-webhooks is running.');
out('');
out(`  Editor     ${run.baseUrl}/   (log in as ${ownerEmail} / ${ownerPassword})`);
for (const h of run.webhooks) out(`  Webhook    ${h.method.padEnd(4)} ${h.url}`);
out(`  API key    ${key.apiKey}   (header ${key.headerName}; credential "${credential.name}")`);
out(`  Receiver   ${receiver.url}   (prints the requests workflows send out, below)`);
out(`  n8n log    ${path.relative(process.cwd(), run.n8nLog)}`);
out('');
if (hasHook('profile-update')) {
	out('Update a profile. The first call answers CREATED, a repeat MODIFIED ("visits" is summed);');
	out('without "visits" a repeat answers UNCHANGED; a wrong key answers 401:');
	out('');
	for (const line of curl('profile-update', 'ada@example.com', { firstName: 'Ada', visits: 1 })) out(`  ${line}`);
	out('');
}
if (hasHook('profile-sync')) {
	out('Sync a profile of the "customers" segment to the CRM (the receiver prints the request):');
	out('');
	for (const line of curl('profile-sync', 'bo@example.com', { firstName: 'Bo', segment: 'customers' })) out(`  ${line}`);
	out('');
}
if (hasHook('profile-update')) {
	out('An outgoing goal on profile changes: a change of "tier" or "plan", from any writer, makes the');
	out('"Outgoing goal on profile changes" workflow tell the CRM once (the receiver prints it); sending the');
	out('same tier again changes nothing and sends nothing:');
	out('');
	for (const line of curl('profile-update', 'ada@example.com', { tier: 'gold' })) out(`  ${line}`);
	out('');
}
out('Every accepted call is an execution of its workflow: open the workflow in the editor, tab Executions.');
out('Ctrl-C stops n8n and the receiver.');

let stopping = false;
const shutdown = async (code) => {
	if (stopping) return;
	stopping = true;
	out('\nStopping n8n and the receiver...');
	await run.stop().catch((error) => process.stderr.write(`${error.message}\n`));
	await receiver.close();
	out('Stopped.');
	process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void shutdown(0));
run.exited.then(({ code, signal }) => {
	if (stopping) return;
	process.stderr.write(`\nn8n exited unexpectedly (${code ?? signal}); see ${run.n8nLog}\n`);
	void shutdown(1);
});
