/**
 * Several operating-system processes running storeWorker.js tasks against one store: start them
 * together, or SIGKILL one right after it acknowledged writes. Shared by the SQLite and PostgreSQL
 * several-process tests.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const WORKER = join(__dirname, 'storeWorker.js');

export interface WorkerMessage {
	type: 'ready' | 'done' | 'error';
	ms?: number;
	message?: string;
	states?: Record<string, number>;
	created?: number[];
}

export function start(task: Record<string, unknown>): ChildProcess {
	return fork(WORKER, [JSON.stringify(task)], { execArgv: [], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
}

export function nextMessage(child: ChildProcess, type: WorkerMessage['type']): Promise<WorkerMessage> {
	return new Promise((resolve, reject) => {
		const onMessage = (message: WorkerMessage) => {
			if (message.type === 'error') reject(new Error(`worker failed: ${message.message}`));
			else if (message.type === type) {
				child.off('message', onMessage);
				resolve(message);
			}
		};
		child.on('message', onMessage);
		child.once('exit', (code) => {
			if (code !== 0) reject(new Error(`worker exited with ${code} before "${type}"`));
		});
	});
}

/** Starts every worker, waits until all have opened the store, then lets them go at once. */
export async function runTogether(tasks: Array<Record<string, unknown>>): Promise<{ results: WorkerMessage[]; ms: number }> {
	const children = tasks.map(start);
	try {
		await Promise.all(children.map((child) => nextMessage(child, 'ready')));
		const done = children.map((child) => nextMessage(child, 'done'));
		const started = Date.now();
		for (const child of children) child.send('go');
		const results = await Promise.all(done);
		return { results, ms: Date.now() - started };
	} finally {
		for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
	}
}

/** Runs a durability task and SIGKILLs it as soon as it has printed `ACK <atLeast>`. */
export function killAfterAck(task: Record<string, unknown>, atLeast: number): Promise<number> {
	return new Promise((resolve, reject) => {
		const child = start(task);
		let buffered = '';
		let acked = 0;
		child.stdout?.on('data', (chunk: Buffer) => {
			buffered += chunk.toString();
			const lines = buffered.split('\n');
			buffered = lines.pop() ?? '';
			for (const line of lines) {
				const match = /^ACK (\d+)$/.exec(line.trim());
				if (match) acked = Math.max(acked, Number(match[1]));
			}
			if (acked >= atLeast && child.exitCode === null && !child.killed) child.kill('SIGKILL');
		});
		child.on('exit', (code, signal) => {
			if (signal === 'SIGKILL' && acked >= atLeast) resolve(acked);
			else reject(new Error(`worker ended (${code ?? signal}) after ${acked} ACKs`));
		});
	});
}
