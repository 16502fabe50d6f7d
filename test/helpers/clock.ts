/**
 * A clock the tests move instead of sleeping, for code that reads `Date.now()` (the trigger's
 * compiled OAuth2 configurations, jose's claim checks through them, the token URL's tokens). Only
 * `Date` is faked: timers, microtasks and I/O stay real, so HTTP servers keep working.
 */
/** The API names @types/jest knows (the installed @jest/types may know more). */
type FakeTimersOptions = Extract<Parameters<typeof jest.useFakeTimers>[0], { doNotFake?: unknown }>;
type FakeableAPI = NonNullable<FakeTimersOptions['doNotFake']>[number];

const ALL_BUT_DATE: FakeableAPI[] = [
	'hrtime',
	'nextTick',
	'performance',
	'queueMicrotask',
	'requestAnimationFrame',
	'cancelAnimationFrame',
	'requestIdleCallback',
	'cancelIdleCallback',
	'setImmediate',
	'clearImmediate',
	'setInterval',
	'clearInterval',
	'setTimeout',
	'clearTimeout',
];

/** Date keeps running with real time, and `shiftClock` jumps it ahead. */
export function useShiftableClock(): void {
	jest.useFakeTimers({ doNotFake: ALL_BUT_DATE, advanceTimers: true, now: Date.now() });
}

/** Date stands still until `shiftClock` moves it (for counting what happens within a second). */
export function freezeClock(): void {
	jest.useFakeTimers({ doNotFake: ALL_BUT_DATE, now: Date.now() });
}

export function shiftClock(ms: number): void {
	jest.setSystemTime(Date.now() + ms);
}

export function realClock(): void {
	jest.useRealTimers();
}
