// Outgoing throughput: the Profile Webhook node (built, in n8n-core's real ExecuteContext, API-key
// credential through n8n's credential authentication) against a bare `fetch` loop, both sending to
// the same local HTTP server at the same concurrency, interleaved and repeated in one process.
//
//   const { runOutboundBench } = require('./outbound');
//   await runOutboundBench({ items: 2000, concurrency: 8, repeats: 3 })  // { node, baseline, ratio, ... }
//
// Run alone: `npm run build && node bench/outbound.js` (BENCH_OUTBOUND_ITEMS, BENCH_OUTBOUND_REPEATS).
// Requiring this file does nothing: no server, no store, no hooks until runOutboundBench is called.
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = path.join(__dirname, '..');

/** test/helpers/n8n.ts (the real ExecuteContext the node tests use), transpiled on the fly. */
function loadExecuteHarness() {
	const ts = require('typescript');
	const file = path.join(ROOT, 'test', 'helpers', 'n8n.ts');
	const previous = require.extensions['.ts'];
	require.extensions['.ts'] = (module, filename) => {
		const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
			fileName: filename,
			compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
		});
		module._compile(outputText, filename);
	};
	try {
		return require(file);
	} finally {
		if (previous) require.extensions['.ts'] = previous;
		else delete require.extensions['.ts'];
	}
}

/** A local API: answers every request 200 with a small JSON body; counts requests and connections. */
async function startServer() {
	const counts = { requests: 0, connections: 0 };
	const server = http.createServer((req, res) => {
		req.resume();
		req.on('end', () => {
			counts.requests++;
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"ok":true}');
		});
	});
	server.keepAliveTimeout = 30_000;
	server.on('connection', () => counts.connections++);
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		counts,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(resolve);
			}),
	};
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function baselineBatch(url, items, concurrency) {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const item = items[next++];
			const response = await fetch(`${url}/contacts/${encodeURIComponent(item.email)}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'x-api-key': 'bench-key' },
				body: JSON.stringify({ email: item.email, plan: item.plan }),
			});
			await response.text();
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * @param {{ items?: number, concurrency?: number, repeats?: number }} options
 * @returns {Promise<{ node: number, baseline: number, ratio: number, nodeConnections: number, baselineConnections: number, items: number, concurrency: number, repeats: number }>}
 *   requests per second (medians over the repeats) and node ÷ baseline.
 */
async function runOutboundBench({ items = 2000, concurrency = 8, repeats = 3 } = {}) {
	process.env.N8N_USER_FOLDER ??= fs.mkdtempSync(path.join(os.tmpdir(), 'profile-bench-n8n-'));
	process.env.N8N_ENCRYPTION_KEY ??= 'bench-encryption-key';
	const { runExecuteNode, TestCredentialsHelper } = loadExecuteHarness();
	const { ProfileWebhook } = require(path.join(ROOT, 'dist', 'nodes', 'ProfileWebhook', 'ProfileWebhook.node.js'));
	const { ProfileWebhookApi } = require(path.join(ROOT, 'dist', 'credentials', 'ProfileWebhookApi.credentials.js'));

	const server = await startServer();
	// Profile-shaped items, as a trigger or the store hands them on (the node looks each id up).
	const batch = Array.from({ length: items }, (_, i) => ({ email: `bench${i}@example.test`, plan: 'gold' }));
	const profileItems = batch.map((fields, i) => ({
		json: { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, properties: { email: [fields.email], plan: [fields.plan] } },
	}));
	const credentialsHelper = new TestCredentialsHelper([new ProfileWebhookApi()]);
	const node = new ProfileWebhook();
	const runNode = async () => {
		const { outputs } = await runExecuteNode({
			nodeType: node,
			parameters: {
				triggerOn: 'always',
				method: 'POST',
				url: `${server.url}/contacts/{{email.0}}`,
				body: '{"email":"{{email.0}}","plan":"{{plan.0}}"}',
				authentication: 'apiKey',
				options: { concurrency, retries: 0 },
			},
			items: profileItems,
			credentials: [{ type: 'profileWebhookApi', data: { apiKey: 'bench-key', headerName: 'X-API-Key', sendIn: 'header' } }],
			credentialTypes: [new ProfileWebhookApi()],
			credentialsHelper,
			mode: 'trigger',
		});
		if (outputs[0].length !== items || outputs[0].some((item) => item.json.error)) {
			throw new Error(`the node sent ${outputs[0].length} of ${items} items: ${JSON.stringify(outputs[0].find((i) => i.json.error)?.json)}`);
		}
	};

	const timed = async (fn) => {
		const before = { ...server.counts };
		const t0 = performance.now();
		await fn();
		const seconds = (performance.now() - t0) / 1000;
		if (server.counts.requests - before.requests !== items) throw new Error('the server did not see every request');
		return { rps: items / seconds, connections: server.counts.connections - before.connections };
	};

	try {
		// One warm-up of each (JIT, the store file, the first sockets) outside the figures.
		await runNode();
		await baselineBatch(server.url, batch.slice(0, Math.min(200, items)), concurrency);
		const nodeRuns = [];
		const baselineRuns = [];
		for (let round = 0; round < repeats; round++) {
			// Interleaved, and the order alternates, so drift on a shared machine hits both alike.
			const pair = [
				async () => nodeRuns.push(await timed(runNode)),
				async () => baselineRuns.push(await timed(() => baselineBatch(server.url, batch, concurrency))),
			];
			if (round % 2) pair.reverse();
			for (const step of pair) await step();
		}
		const nodeRps = median(nodeRuns.map((r) => r.rps));
		const baselineRps = median(baselineRuns.map((r) => r.rps));
		return {
			node: nodeRps,
			baseline: baselineRps,
			ratio: nodeRps / baselineRps,
			nodeConnections: median(nodeRuns.map((r) => r.connections)),
			baselineConnections: median(baselineRuns.map((r) => r.connections)),
			items,
			concurrency,
			repeats,
		};
	} finally {
		await server.close();
	}
}

module.exports = { runOutboundBench };

if (require.main === module) {
	(async () => {
		const items = Number(process.env.BENCH_OUTBOUND_ITEMS ?? 2000);
		const repeats = Number(process.env.BENCH_OUTBOUND_REPEATS ?? 5);
		console.log(`Node ${process.version}; Profile Webhook vs bare fetch loop; ${items} requests per batch, median of ${repeats}`);
		console.log('concurrency | node req/s | fetch req/s | ratio | node conns | fetch conns');
		for (const concurrency of [1, 8]) {
			const r = await runOutboundBench({ items, concurrency, repeats });
			console.log(
				`${String(concurrency).padStart(11)} | ${r.node.toFixed(0).padStart(10)} | ${r.baseline.toFixed(0).padStart(11)} | ${r.ratio.toFixed(2).padStart(5)} | ${String(r.nodeConnections).padStart(10)} | ${String(r.baselineConnections).padStart(11)}`,
			);
		}
		process.exit(0);
	})().catch((error) => {
		console.error(error);
		process.exit(1);
	});
}
