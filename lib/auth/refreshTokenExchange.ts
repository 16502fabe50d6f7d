/**
 * The refresh-token grant (RFC 6749 section 6) for systems that hand out a long-lived refresh
 * token: exchange it for an access token, refresh ahead of expiry, keep a rotated refresh token,
 * and let concurrent requests in one process share one exchange.
 */

export interface RefreshTokenCredentials {
	tokenUrl: string;
	clientId: string;
	clientSecret: string;
	/** 'header': HTTP Basic; 'body': client_id and client_secret in the form. */
	clientAuthentication: 'header' | 'body';
	refreshToken: string;
	scope?: string;
	/** What the last exchange gave, as stored in the credential. */
	accessToken?: string;
	/** Epoch milliseconds; 0 or absent when unknown. */
	expiresAt?: number;
}

export interface TokenSet {
	accessToken: string;
	/** Epoch milliseconds; 0 when the server gave no expires_in. */
	expiresAt: number;
	/** The refresh token to use next time (the rotated one, or the one we had). */
	refreshToken: string;
}

export interface TokenHttpRequest {
	url: string;
	headers: Record<string, string>;
	body: string;
}

/** Posts the form and answers the status and the parsed JSON body, whatever the status. */
export type TokenHttp = (request: TokenHttpRequest) => Promise<{ status: number; body: unknown }>;

export const CREDENTIAL_DISPLAY_NAME = 'Profile Webhook Refresh Token OAuth2 API';

export class RefreshTokenError extends Error {
	constructor(
		message: string,
		/** The OAuth error code the token endpoint answered, if any (invalid_grant, invalid_client...). */
		readonly oauthError: string | undefined,
		/** The HTTP status of the token endpoint's answer (not `status`: n8n would take it for the API's). */
		readonly tokenEndpointStatus: number,
		/** The endpoint's error_description, or a short account of what came back. */
		readonly detail: string,
	) {
		super(message);
		this.name = 'RefreshTokenError';
	}
}

/**
 * Seconds before the announced expiry at which a token counts as expired, so no request carries
 * a dying token: a tenth of the lifetime, at least 2 s (servers count `exp` in whole seconds, so a
 * token can die up to 1 s before `expires_in` says, and the request still has to get there) and
 * at most 60 s, but never more than half the lifetime (else a short-lived token would never be
 * used and every request would exchange).
 */
export function refreshMargin(lifetimeSeconds: number): number {
	return Math.min(60, Math.max(2, lifetimeSeconds / 10), lifetimeSeconds / 2);
}

const inFlight = new Map<string, Promise<TokenSet>>();
/** Refresh token -> what it was exchanged for in this process (so a rotated one is never reused). */
const successors = new Map<string, TokenSet>();
/** Enough for many credentials over many token lifetimes; the oldest links are dropped first. */
const MAX_SUCCESSORS = 1000;

/**
 * Access tokens an API refused in this process (a node that sends on its own connections reports
 * them), so the next exchange does not hand out the same token again first.
 */
const refusedAccessTokens = new Set<string>();

/** Records that an API answered 401 to this access token. */
export function noteRefusedAccessToken(accessToken: string): void {
	refusedAccessTokens.add(accessToken);
	while (refusedAccessTokens.size > MAX_SUCCESSORS) {
		refusedAccessTokens.delete(refusedAccessTokens.values().next().value as string);
	}
}

function remember(spent: string, tokens: TokenSet): void {
	successors.delete(spent);
	successors.set(spent, tokens);
	while (successors.size > MAX_SUCCESSORS) successors.delete(successors.keys().next().value as string);
}

function flightKey(c: RefreshTokenCredentials, refreshToken: string): string {
	return `${c.tokenUrl}\n${c.clientId}\n${refreshToken}`;
}

async function exchange(
	credentials: RefreshTokenCredentials,
	refreshToken: string,
	http: TokenHttp,
	now: () => number,
): Promise<TokenSet> {
	const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
	if (credentials.scope) form.set('scope', credentials.scope);
	const headers: Record<string, string> = {
		'content-type': 'application/x-www-form-urlencoded',
		accept: 'application/json',
	};
	if (credentials.clientAuthentication === 'body' || !credentials.clientSecret) {
		// A public client (no secret) identifies itself in the form: Basic with an empty password
		// is client authentication it is not registered for.
		form.set('client_id', credentials.clientId);
		if (credentials.clientSecret) form.set('client_secret', credentials.clientSecret);
	} else {
		const basic = `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`;
		headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
	}
	const started = now();
	const { status, body } = await http({ url: credentials.tokenUrl, headers, body: form.toString() });
	const answer = (body ?? {}) as Record<string, unknown>;
	if (status < 200 || status >= 300 || typeof answer.access_token !== 'string') {
		const error = typeof answer.error === 'string' ? answer.error : undefined;
		const description = typeof answer.error_description === 'string' ? answer.error_description : undefined;
		const detail = description ?? error ?? (status >= 200 && status < 300 ? 'no access_token in the answer' : `HTTP ${status}`);
		if (error === 'invalid_grant') {
			throw new RefreshTokenError(
				`The refresh token of the "${CREDENTIAL_DISPLAY_NAME}" credential was refused (invalid_grant: ${detail}). It has expired, been revoked or been used after rotation: renew the refresh token in the credential.`,
				error,
				status,
				detail,
			);
		}
		throw new RefreshTokenError(
			`The token URL answered ${status}${error ? ` ${error}` : ''} (${detail}) when the "${CREDENTIAL_DISPLAY_NAME}" credential exchanged its refresh token`,
			error,
			status,
			detail,
		);
	}
	const lifetime = Number(answer.expires_in);
	const expiresAt =
		Number.isFinite(lifetime) && lifetime > 0
			? started + (lifetime - refreshMargin(lifetime)) * 1000
			: 0;
	return {
		accessToken: answer.access_token,
		expiresAt,
		refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : refreshToken,
	};
}

/** Follows this process's record of exchanges from `refreshToken` to the newest token set. */
function newest(refreshToken: string): { refreshToken: string; tokens?: TokenSet } {
	let tokens: TokenSet | undefined;
	const seen = new Set<string>();
	for (let next = successors.get(refreshToken); next && !seen.has(refreshToken); next = successors.get(refreshToken)) {
		seen.add(refreshToken);
		tokens = next;
		refreshToken = next.refreshToken;
	}
	return { refreshToken, tokens };
}

/**
 * The token set to use now: the newest known one while it is fresh, otherwise the result of one
 * exchange shared by every concurrent caller in this process. `afterRefusal` says the API just
 * refused the credential's stored access token, so that token must not be used again.
 */
export async function ensureAccessToken(
	credentials: RefreshTokenCredentials,
	http: TokenHttp,
	options: { now?: () => number; afterRefusal?: boolean } = {},
): Promise<TokenSet> {
	const now = options.now ?? Date.now;
	const known = newest(credentials.refreshToken);
	const current: TokenSet | undefined =
		known.tokens ??
		(credentials.accessToken
			? {
					accessToken: credentials.accessToken,
					expiresAt: credentials.expiresAt ?? 0,
					refreshToken: credentials.refreshToken,
				}
			: undefined);
	const refused =
		(options.afterRefusal && current?.accessToken === credentials.accessToken) ||
		(current !== undefined && refusedAccessTokens.has(current.accessToken));
	if (current && !refused && (!current.expiresAt || now() < current.expiresAt)) return current;

	const key = flightKey(credentials, known.refreshToken);
	let pending = inFlight.get(key);
	if (!pending) {
		const spent = known.refreshToken;
		pending = exchange(credentials, spent, http, now)
			.then((tokens) => {
				remember(spent, tokens);
				return tokens;
			})
			.finally(() => inFlight.delete(key));
		inFlight.set(key, pending);
	}
	return await pending;
}

/** Forgets what this process learnt (tests). */
export function resetRefreshTokenCache(): void {
	inFlight.clear();
	successors.clear();
	refusedAccessTokens.clear();
}
