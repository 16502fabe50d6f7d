/**
 * Sending with a credential over pooled connections, while the credential's tokens stay in n8n's
 * hands: what to add to a request comes from the stored credential (`readAuth`), and everything that
 * fetches, refreshes or persists a token goes through n8n's own code (`viaHelper`, `renewToken`),
 * injected by the node.
 *
 * - No usable token yet (client credentials before the first fetch, a refresh-token credential's
 *   token about to expire): this request goes through the helper, then the credential is read again.
 * - 401 with a token: for n8n's OAuth2 credentials one renewal per refused token (n8n's refresh,
 *   single flight and persisted), then this request once more on the pool; for the refresh-token
 *   credential the token is reported refused and the request resent through the helper, whose
 *   pre-authentication exchanges the refresh token.
 * - The first request of a run goes alone and a failed credential stops asking (CredentialGate).
 */
import { CredentialGate } from '../auth/credentialGate';
import type { SendOutcome } from './delivery';
import type { OutgoingRequest } from './request';

export interface RequestAuth {
	headers: Record<string, string>;
	query: Record<string, string>;
	/** The bearer token, for token credentials (absent for an API key). */
	token?: string;
	/** Epoch ms from which the token must not be used any more. */
	expiresAt?: number;
}

export interface AuthenticatedSendOptions {
	/** Token renewal after a 401: `n8nRefresh` (OAuth2 credentials) or `refusedThenHelper`. */
	renewal: 'n8nRefresh' | 'refusedThenHelper' | 'none';
	/** The stored credential's authentication; undefined while there is no usable token. */
	readAuth: () => Promise<RequestAuth | undefined>;
	/** One request on the pool, with the credential's headers and query. */
	pooled: (request: OutgoingRequest, auth: RequestAuth, timeoutMs: number) => Promise<SendOutcome>;
	/** One request through n8n's authenticated request helper. */
	viaHelper: (request: OutgoingRequest, timeoutMs: number) => Promise<SendOutcome>;
	/** n8n's token refresh for the credential (persists the new token). */
	renewToken?: () => Promise<void>;
	/** Tells the credential's own exchange that the API refused this token. */
	noteRefused?: (token: string) => void;
	now?: () => number;
}

export type AuthenticatedSend = (request: OutgoingRequest, options: { timeoutMs: number }) => Promise<SendOutcome>;

export function createAuthenticatedSend(options: AuthenticatedSendOptions): AuthenticatedSend {
	const now = options.now ?? Date.now;
	let auth: Promise<RequestAuth | undefined> | undefined;
	const currentAuth = async (): Promise<RequestAuth | undefined> => {
		const current = await (auth ??= options.readAuth());
		if (current?.expiresAt && now() >= current.expiresAt) {
			auth = undefined;
			return undefined;
		}
		return current;
	};

	const renewals = new Map<string, Promise<RequestAuth | undefined>>();
	const renew = async (refused: string): Promise<RequestAuth | undefined> => {
		let renewal = renewals.get(refused);
		if (!renewal) {
			renewal = (async () => {
				// Another request may have renewed it already: then no second refresh.
				const stored = await options.readAuth();
				if (stored?.token && stored.token !== refused) return stored;
				await options.renewToken?.();
				return await options.readAuth();
			})();
			renewals.set(refused, renewal);
		}
		return await renewal;
	};

	const send = async (request: OutgoingRequest, timeoutMs: number): Promise<SendOutcome> => {
		let current: RequestAuth | undefined;
		try {
			current = await currentAuth();
		} catch (error) {
			auth = undefined;
			return { error };
		}
		if (!current) {
			const outcome = await options.viaHelper(request, timeoutMs);
			auth = undefined; // the helper may have stored a new token: read it again
			return outcome;
		}
		const outcome = await options.pooled(request, current, timeoutMs);
		if (outcome.status !== 401 || !current.token || options.renewal === 'none') return outcome;
		auth = undefined;
		if (options.renewal === 'refusedThenHelper') {
			options.noteRefused?.(current.token);
			return await options.viaHelper(request, timeoutMs);
		}
		let renewed: RequestAuth | undefined;
		try {
			renewed = await renew(current.token);
		} catch (error) {
			return { error };
		}
		return renewed ? await options.pooled(request, renewed, timeoutMs) : await options.viaHelper(request, timeoutMs);
	};

	const gate = new CredentialGate();
	return async (request, { timeoutMs }) =>
		await gate.run(
			async () => await send(request, timeoutMs),
			(outcome) => (outcome.answer ? undefined : outcome.error),
			(error) => ({ error }),
		);
}
