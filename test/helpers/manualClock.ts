/**
 * A clock for code that waits (lib/changes/changeConsumer.ts Clock): time moves only when a test
 * says so, so tests wait for conditions, never for wall-clock time.
 */
import type { Clock } from '../../lib/changes/changeConsumer';

interface Sleeper {
	at: number;
	resolve: () => void;
}

export class ManualClock implements Clock {
	private time = 0;
	private sleepers: Sleeper[] = [];

	now(): number {
		return this.time;
	}

	sleep(ms: number, signal?: AbortSignal): Promise<void> {
		return new Promise((resolve) => {
			if (signal?.aborted || ms <= 0) return resolve();
			const sleeper: Sleeper = { at: this.time + ms, resolve };
			this.sleepers.push(sleeper);
			signal?.addEventListener(
				'abort',
				() => {
					this.sleepers = this.sleepers.filter((s) => s !== sleeper);
					resolve();
				},
				{ once: true },
			);
		});
	}

	/** Moves time on by `ms`, waking every sleeper whose time came. */
	advance(ms: number): void {
		this.time += ms;
		const due = this.sleepers.filter((s) => s.at <= this.time);
		this.sleepers = this.sleepers.filter((s) => s.at > this.time);
		for (const sleeper of due) sleeper.resolve();
	}

	/** How many are asleep (a consumer waiting for its next poll is one). */
	get sleeping(): number {
		return this.sleepers.length;
	}
}

/** Lets pending promise callbacks and I/O callbacks run. */
export async function flush(rounds = 5): Promise<void> {
	for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Advances `clock` by `stepMs` and lets work run until `condition` holds; fails after `maxSteps`
 * steps of simulated time (not wall-clock time).
 */
export async function until(
	clock: ManualClock,
	condition: () => boolean | Promise<boolean>,
	{ stepMs = 250, maxSteps = 200, what = 'the condition' } = {},
): Promise<void> {
	for (let step = 0; step < maxSteps; step++) {
		await flush();
		if (await condition()) return;
		clock.advance(stepMs);
	}
	throw new Error(`${what} did not hold after ${maxSteps} steps of ${stepMs} ms`);
}
