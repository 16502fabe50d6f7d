/**
 * A change feed consumer: reads the feed after its cursor, hands the matching entries on in `seq`
 * order, and moves its cursor, kept in the profile store, only past entries whose delivery has
 * settled. The Profile Change Trigger runs one per active workflow node (DESIGN 2.4).
 *
 * Guarantees, and how they hold:
 * - At least once. The cursor is written only after `deliver` was called for every matching entry
 *   up to it AND each of those deliveries settled (the n8n trigger settles when the execution
 *   it started has finished, or after `ackTimeoutMs`). A crash before that leaves the cursor behind
 *   the entry, so the entry is read again after the restart.
 * - Nothing missed across a restart or a deactivate/activate: the cursor lives in the store, keyed
 *   by the consumer id (workflow id + node id); a new consumer with a known id resumes after it.
 * - Start: a consumer id the store does not know starts at the current end of the feed
 *   (`lastChangeSeq()`), so activating a workflow does not replay the store's history.
 * - No duplicates in normal operation: a stop (deactivation, n8n shutting down) waits up to
 *   `stopTimeoutMs` for deliveries in flight, then saves the cursor. Redelivery after a crash is
 *   left to the deliverer to recognise (the n8n trigger passes a deduplication key per entry).
 * - Order: entries are delivered in `seq` order; their executions may finish in any order, and the
 *   cursor stops at the oldest one still running.
 * - Latency: the feed is read every `pollIntervalMs` (default 250 ms) while idle, at once while a
 *   page was full, and at once when `notify()` is called (a same-process write or a database
 *   notification).
 *
 * Nothing here knows n8n: the clock and the deliverer are injected.
 */
import type { ChangeFeedEntry } from '../store/ProfileStore';
import type { ChangeFilter } from './changeFilter';

/** What the consumer needs of the profile engine (ProfileEngine has all of it). */
export interface ChangeFeed {
	readChanges(afterSeq: number, limit: number): Promise<ChangeFeedEntry[]>;
	lastChangeSeq(): Promise<number>;
	getCursor(consumerId: string): Promise<number | undefined>;
	setCursor(consumerId: string, seq: number): Promise<void>;
}

export interface Clock {
	now(): number;
	/** Resolves after `ms`, or early (without error) when `signal` aborts. */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
	now: () => Date.now(),
	sleep: (ms, signal) =>
		new Promise<void>((resolve) => {
			if (signal?.aborted) return resolve();
			const done = () => {
				clearTimeout(timer);
				signal?.removeEventListener('abort', done);
				resolve();
			};
			const timer = setTimeout(done, ms);
			signal?.addEventListener('abort', done, { once: true });
		}),
};

/**
 * Hands one matching entry on. Resolves once it was handed on (for n8n: emitted), with `settled`,
 * which resolves when the delivery is complete (the execution finished); or with undefined when
 * there was nothing to deliver (say, the profile was erased meanwhile). Throwing stops this round:
 * the entry is read and delivered again in the next one.
 */
export type Deliver = (entry: ChangeFeedEntry) => Promise<{ settled: Promise<unknown> } | undefined>;

export interface ConsumerOptions {
	feed: ChangeFeed;
	consumerId: string;
	matches: ChangeFilter;
	deliver: Deliver;
	clock?: Clock;
	/** Idle poll interval (default 250 ms). */
	pollIntervalMs?: number;
	/** Entries read per round (default 100). */
	pageSize?: number;
	/** Deliveries not yet settled; at this number reading pauses (default 50). */
	maxInFlight?: number;
	/** A delivery that has not settled after this long counts as settled (default 60 s). */
	ackTimeoutMs?: number;
	/** How long `stop()` waits for deliveries in flight before it saves the cursor (default 10 s). */
	stopTimeoutMs?: number;
	/** Where the cursor is kept (default: the feed's store). Manual runs keep it in memory. */
	cursors?: Pick<ChangeFeed, 'getCursor' | 'setCursor'>;
	/** A failed round (store unavailable, a delivery that threw); the consumer retries with backoff. */
	onError?: (error: unknown) => void;
}

export interface ConsumerStats {
	/** The highest seq read. */
	readSeq: number;
	/** The cursor as last saved. */
	savedSeq: number;
	delivered: number;
	inFlight: number;
}

const MAX_BACKOFF_MS = 5_000;

/** Consumers running in this process, by id: a second one with the same id replaces the first. */
const running = new Map<string, ChangeConsumer>();

export class ChangeConsumer {
	private readonly clock: Clock;
	private readonly cursors: Pick<ChangeFeed, 'getCursor' | 'setCursor'>;
	private readonly pollIntervalMs: number;
	private readonly pageSize: number;
	private readonly maxInFlight: number;
	private readonly ackTimeoutMs: number;
	private readonly stopTimeoutMs: number;
	/** Seqs of deliveries not yet settled, in seq order. */
	private readonly pending: number[] = [];
	private readSeq = 0;
	private savedSeq = 0;
	private delivered = 0;
	private stopping = false;
	private wake = new AbortController();
	private loop?: Promise<void>;
	private stopped?: Promise<void>;

	constructor(private readonly options: ConsumerOptions) {
		this.clock = options.clock ?? systemClock;
		this.cursors = options.cursors ?? options.feed;
		this.pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 250);
		this.pageSize = Math.max(1, options.pageSize ?? 100);
		this.maxInFlight = Math.max(1, options.maxInFlight ?? 50);
		this.ackTimeoutMs = Math.max(0, options.ackTimeoutMs ?? 60_000);
		this.stopTimeoutMs = Math.max(0, options.stopTimeoutMs ?? 10_000);
	}

	get id(): string {
		return this.options.consumerId;
	}

	/**
	 * Reads the cursor (or starts one at the end of the feed) and begins polling. Resolves once the
	 * starting point is stored, so a change committed after `start()` resolved is delivered.
	 */
	async start(): Promise<void> {
		const previous = running.get(this.id);
		if (previous && previous !== this) await previous.stop();
		running.set(this.id, this);
		let cursor = await this.cursors.getCursor(this.id);
		if (cursor === undefined) {
			cursor = await this.options.feed.lastChangeSeq();
			await this.cursors.setCursor(this.id, cursor);
		}
		this.readSeq = cursor;
		this.savedSeq = cursor;
		this.loop = this.run();
	}

	/** Reads the feed now instead of at the next poll. */
	notify(): void {
		this.wake.abort();
	}

	stats(): ConsumerStats {
		return { readSeq: this.readSeq, savedSeq: this.savedSeq, delivered: this.delivered, inFlight: this.pending.length };
	}

	/**
	 * Stops reading, waits (at most `stopTimeoutMs`) for deliveries in flight, then saves the
	 * cursor. Calling it again returns the same promise.
	 */
	stop(): Promise<void> {
		this.stopped ??= (async () => {
			this.stopping = true;
			this.wake.abort();
			await this.loop;
			if (this.pending.length) {
				const deadline = new AbortController();
				await Promise.race([this.drained(), this.clock.sleep(this.stopTimeoutMs, deadline.signal)]);
				deadline.abort();
			}
			await this.saveCursor().catch((error) => this.options.onError?.(error));
			if (running.get(this.id) === this) running.delete(this.id);
		})();
		return this.stopped;
	}

	private drainWaiters: Array<() => void> = [];

	private drained(): Promise<void> {
		if (!this.pending.length) return Promise.resolve();
		return new Promise((resolve) => this.drainWaiters.push(resolve));
	}

	/** Everything up to here is delivered and settled. */
	private ackedSeq(): number {
		return this.pending.length ? this.pending[0] - 1 : this.readSeq;
	}

	private async saveCursor(): Promise<void> {
		const acked = this.ackedSeq();
		if (acked <= this.savedSeq) return;
		await this.cursors.setCursor(this.id, acked);
		this.savedSeq = Math.max(this.savedSeq, acked);
	}

	private track(seq: number, settled: Promise<unknown>): void {
		this.pending.push(seq);
		const timeout = new AbortController();
		const done = () => {
			timeout.abort();
			const index = this.pending.indexOf(seq);
			if (index >= 0) this.pending.splice(index, 1);
			if (!this.pending.length) for (const resolve of this.drainWaiters.splice(0)) resolve();
			// A settled delivery may let the cursor move (and reading resume): look again.
			if (index === 0) this.notify();
		};
		void Promise.race([
			settled.then(
				() => undefined,
				() => undefined,
			),
			this.clock.sleep(this.ackTimeoutMs, timeout.signal),
		]).then(done);
	}

	/** One round: read a page after what was read, deliver the matching entries, move the cursor. */
	private async round(): Promise<boolean> {
		let full = false;
		if (this.pending.length < this.maxInFlight) {
			const entries = await this.options.feed.readChanges(this.readSeq, this.pageSize);
			full = entries.length === this.pageSize;
			for (const entry of entries) {
				if (this.stopping || this.pending.length >= this.maxInFlight) {
					full = true;
					break;
				}
				if (this.options.matches(entry)) {
					const handed = await this.options.deliver(entry);
					if (handed) {
						this.delivered++;
						this.track(entry.seq, handed.settled);
					}
				}
				this.readSeq = entry.seq;
			}
		}
		await this.saveCursor();
		return full;
	}

	private async run(): Promise<void> {
		let failures = 0;
		while (!this.stopping) {
			let again = false;
			try {
				again = await this.round();
				failures = 0;
			} catch (error) {
				failures++;
				this.options.onError?.(error);
			}
			if (this.stopping) break;
			if (again && !failures) continue;
			const wait = failures ? Math.min(MAX_BACKOFF_MS, this.pollIntervalMs * 2 ** failures) : this.pollIntervalMs;
			if (!this.wake.signal.aborted) await this.clock.sleep(wait, this.wake.signal);
			if (this.wake.signal.aborted) this.wake = new AbortController();
		}
	}
}

/**
 * The latest entry that matches, among the last `lookback` entries of the feed (a manual run
 * shows it instead of waiting for the next change).
 */
export async function latestMatch(
	feed: Pick<ChangeFeed, 'readChanges' | 'lastChangeSeq'>,
	matches: ChangeFilter,
	lookback = 1_000,
): Promise<ChangeFeedEntry | undefined> {
	const last = await feed.lastChangeSeq();
	const entries = await feed.readChanges(Math.max(0, last - lookback), lookback);
	for (let i = entries.length - 1; i >= 0; i--) if (matches(entries[i])) return entries[i];
	return undefined;
}

/** A cursor kept in memory (manual runs must not move the workflow's stored cursor). */
export function memoryCursors(): Pick<ChangeFeed, 'getCursor' | 'setCursor'> {
	const cursors = new Map<string, number>();
	return {
		getCursor: async (id) => cursors.get(id),
		setCursor: async (id, seq) => {
			cursors.set(id, seq);
		},
	};
}
