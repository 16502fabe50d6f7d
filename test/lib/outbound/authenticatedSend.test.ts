import { createAuthenticatedSend, type RequestAuth } from '../../../lib/outbound/authenticatedSend';
import type { SendOutcome } from '../../../lib/outbound/delivery';
import type { OutgoingRequest } from '../../../lib/outbound/request';

const request: OutgoingRequest = { method: 'POST', url: 'https://api.example.com/c', headers: {} };
const ok = (): SendOutcome => ({ status: 200, answer: { status: 200, headers: {}, body: '' } });
const refused = (): SendOutcome => ({ status: 401, answer: { status: 401, headers: {}, body: '' } });

/** A credential store holding one token, and an API that accepts only `valid`. */
function world(initial: string | undefined) {
	const state = { stored: initial, valid: initial, pooled: [] as string[], helper: 0, refreshes: 0, reads: 0 };
	const bearer = (token: string): RequestAuth => ({ headers: { Authorization: `Bearer ${token}` }, query: {}, token });
	return {
		state,
		readAuth: async () => {
			state.reads++;
			return state.stored ? bearer(state.stored) : undefined;
		},
		pooled: async (_r: OutgoingRequest, auth: RequestAuth) => {
			state.pooled.push(auth.token!);
			return auth.token === state.valid ? ok() : refused();
		},
		viaHelper: async () => {
			state.helper++;
			state.stored ??= state.valid = 'fetched';
			return ok();
		},
		renewToken: async () => {
			state.refreshes++;
			state.stored = state.valid = `renewed-${state.refreshes}`;
		},
	};
}

describe('createAuthenticatedSend', () => {
	it('fetches the first token through the helper once, then sends on the pool with the stored token', async () => {
		const w = world(undefined);
		const send = createAuthenticatedSend({ renewal: 'n8nRefresh', ...w });
		await Promise.all(Array.from({ length: 5 }, () => send(request, { timeoutMs: 1000 })));
		expect(w.state.helper).toBe(1);
		expect(w.state.pooled).toEqual(['fetched', 'fetched', 'fetched', 'fetched']);
	});

	it('a token refused mid-run is renewed once for all requests in flight, and each is sent again on the pool', async () => {
		const w = world('old');
		const send = createAuthenticatedSend({ renewal: 'n8nRefresh', ...w });
		await send(request, { timeoutMs: 1000 });
		w.state.valid = 'revoked-by-server';
		const outcomes = await Promise.all(Array.from({ length: 4 }, () => send(request, { timeoutMs: 1000 })));
		expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200]);
		expect(w.state.refreshes).toBe(1);
		expect(w.state.helper).toBe(0);
	});

	it('an expiring token goes through the helper; a refresh-token credential hears which token was refused', async () => {
		let now = 0;
		const w = world('t1');
		const noted: string[] = [];
		const send = createAuthenticatedSend({
			renewal: 'refusedThenHelper',
			...w,
			readAuth: async () => ({ headers: {}, query: {}, token: w.state.stored, expiresAt: 100 }),
			noteRefused: (token) => noted.push(token),
			now: () => now,
		});
		await send(request, { timeoutMs: 1000 });
		expect(w.state.helper).toBe(0);
		now = 100;
		await send(request, { timeoutMs: 1000 });
		expect(w.state.helper).toBe(1);
		now = 0;
		w.state.valid = 'other';
		await send(request, { timeoutMs: 1000 });
		expect(noted).toEqual(['t1']);
		expect(w.state.helper).toBe(2);
	});
});
