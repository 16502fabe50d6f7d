'use strict';
/**
 * A separate process driving the SQLite store, for sqlite.processes.test.ts (or the PostgreSQL
 * store, for postgres.processes.test.ts). Plain JavaScript so it
 * runs without Jest: the TypeScript sources are loaded through a transpile-only require hook
 * (typescript.transpileModule; type checking is the test run's job, not this process's).
 *
 * argv[2] is a JSON task. Messages to the parent go over IPC; the durability tasks print "ACK <n>"
 * on stdout once a write's promise has resolved, so the parent can kill the process right then.
 */
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
	const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
		fileName: filename,
		compilerOptions: {
			module: ts.ModuleKind.CommonJS,
			target: ts.ScriptTarget.ES2022,
			esModuleInterop: true,
		},
	});
	module._compile(outputText, filename);
};

const { ProfileEngine } = require('../../../lib/profiles/engine.ts');
const { SqliteStore } = require('../../../lib/store/sqlite/SqliteStore.ts');
const { PostgresProfileStore } = require('../../../lib/store/postgres/PostgresProfileStore.ts');

const task = JSON.parse(process.argv[2]);

function send(message) {
	return new Promise((resolve) => process.send(message, resolve));
}

function waitForGo() {
	return new Promise((resolve) => {
		process.on('message', (message) => {
			if (message === 'go') resolve();
		});
	});
}

/** Identifier of the shared profile: sum +1 on visits, add a value no other write adds to tags. */
async function hammer(store) {
	const states = {};
	for (let n = 0; n < task.writes; n++) {
		const result = await store.applyByIdentifier({
			identifier: { property: 'email', value: task.email },
			imports: [
				{ property: 'visits', mode: 'sum', values: [1] },
				{ property: 'tags', mode: 'add', values: [`p${task.worker}-w${n}`] },
			],
		});
		states[result.state] = (states[result.state] || 0) + 1;
	}
	return { states };
}

/** Every process creates-when-not-found the same new identifiers, in the same order. */
async function createRace(store) {
	const created = [];
	for (let n = 0; n < task.identifiers; n++) {
		const result = await store.applyByIdentifier({
			identifier: { property: 'email', value: `race-${n}@example.com` },
			create: true,
			imports: [{ property: 'visits', mode: 'sum', values: [1] }],
		});
		if (result.state === 'CREATED') created.push(n);
	}
	return { created };
}

async function durableOnce(store) {
	await store.applyByIdentifier({
		identifier: { property: 'email', value: task.email },
		create: true,
		imports: [{ property: 'marker', mode: 'set', values: [task.marker] }],
	});
	process.stdout.write('ACK 1\n');
	// Wait to be killed: a pending promise alone does not keep Node's event loop alive, a timer does.
	setInterval(() => {}, 60_000);
	await new Promise(() => {});
}

async function durableStream(store) {
	for (let n = 1; ; n++) {
		await store.applyByIdentifier({
			identifier: { property: 'email', value: task.email },
			create: true,
			imports: [{ property: 'visits', mode: 'sum', values: [1] }],
		});
		process.stdout.write(`ACK ${n}\n`);
	}
}

async function main() {
	// task.postgres (a PostgresStoreConfig): the same tasks on the PostgreSQL store.
	const store = new ProfileEngine(
		task.postgres ? new PostgresProfileStore(task.postgres) : new SqliteStore(task.path, task.options || {}),
	);
	if (task.kind === 'durableOnce') return durableOnce(store);
	if (task.kind === 'durableStream') return durableStream(store);
	const go = waitForGo();
	await send({ type: 'ready' });
	await go;
	const started = Date.now();
	const outcome = task.kind === 'hammer' ? await hammer(store) : await createRace(store);
	await store.close();
	await send({ type: 'done', ms: Date.now() - started, ...outcome });
	process.exit(0);
}

main().catch(async (error) => {
	await send({ type: 'error', message: String(error && error.stack ? error.stack : error) });
	process.exit(1);
});
