import { setTimeout as sleep } from 'node:timers/promises';

import { CredentialGate } from '../../../lib/auth/credentialGate';

interface Result {
	ok: boolean;
	error?: unknown;
}

const invalidClient = Object.assign(new Error('Client authentication failed'), {
	code: 'EAUTH',
	body: { error: 'invalid_client' },
});

function counter() {
	const state = { running: 0, max: 0, calls: 0, maxAfterFirst: 0 };
	const send = (result: Result, ms = 10) => async (): Promise<Result> => {
		state.calls++;
		state.running++;
		state.max = Math.max(state.max, state.running);
		if (state.calls > 1) state.maxAfterFirst = Math.max(state.maxAfterFirst, state.running);
		await sleep(ms);
		state.running--;
		return result;
	};
	return { state, send };
}

const errorOf = (result: Result) => result.error;
const replay = (error: unknown): Result => ({ ok: false, error });

describe('CredentialGate', () => {
	it('lets the first request go alone, then the rest in parallel', async () => {
		const gate = new CredentialGate();
		const { state, send } = counter();
		const order: number[] = [];
		await Promise.all(
			Array.from({ length: 5 }, async (_, i) => {
				await gate.run(send({ ok: true }, i === 0 ? 30 : 10), errorOf, replay);
				order.push(i);
			}),
		);
		expect(order[0]).toBe(0);
		expect(state.calls).toBe(5);
		expect(state.maxAfterFirst).toBe(4);
	});

	it('after a credential failure, answers it again without sending', async () => {
		const gate = new CredentialGate();
		const { state, send } = counter();
		const results = await Promise.all(
			Array.from({ length: 4 }, async () => await gate.run(send({ ok: false, error: invalidClient }), errorOf, replay)),
		);
		expect(state.calls).toBe(1);
		expect(results.every((r) => r.error === invalidClient)).toBe(true);
		expect(gate.failedWith).toBe(invalidClient);
	});

	it('any other failure does not close it', async () => {
		const gate = new CredentialGate();
		const { state, send } = counter();
		const refused = { ok: false, error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) };
		await gate.run(send(refused), errorOf, replay);
		await gate.run(send({ ok: true }), errorOf, replay);
		expect(state.calls).toBe(2);
		expect(gate.failedWith).toBeUndefined();
	});

	it('opens for the others when the first send throws', async () => {
		const gate = new CredentialGate();
		await expect(gate.run(async () => Promise.reject(new Error('boom')), errorOf, replay)).rejects.toThrow('boom');
		await expect(gate.run(async () => ({ ok: true }), errorOf, replay)).resolves.toEqual({ ok: true });
	});
});
