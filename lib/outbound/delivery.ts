/**
 * The Profile Webhook's per-item pipeline (DESIGN.md 2.3), without n8n: which profile, the
 * filters, the rendered request, the send (injected: the node hands in n8n's authentication and
 * a pooled connection), retries, response mapping, and the "last sent" snapshots.
 *
 * Snapshot rules:
 * - kept only when a trigger reads them (Trigger On = Property Change), and written once per
 *   execution as one batch (`writeSentSnapshots`), also when a later item stopped the execution;
 * - recorded as soon as the API answered 2xx, even when response mapping then fails (that failure
 *   is reported on the item), so nothing is re-sent forever;
 * - keyed by profile id for stored profiles, by identifier for others (see `snapshotKey`);
 * - a manual run (the editor's test) reads them but marks nothing: no snapshot, no mapped value
 *   written to the store; its items show request and response.
 */
import { applyImports } from '../profiles/applyImport';
import type { Profile, ProfileChanges, ProfileProperties } from '../profiles/types';
import type { ProfileEngine } from '../profiles/engine';
import { redactBody, redactSecrets, redactUrl } from '../inbound/redaction';
import { buildProfileView } from '../templates/profileView';
import { mapWithConcurrency } from './concurrency';
import { profileFromItem, snapshotKey, type ItemProfile } from './itemProfile';
import type { OutgoingRequest } from './request';
import { sendWithRetries, type Outcome, type RetryOptions } from './retry';
import type { CompiledWebhookConfig } from './webhookConfig';

/** The profile engine's methods the pipeline uses. */
export type DeliveryStore = Pick<
	ProfileEngine,
	'get' | 'findByIdentifier' | 'applyToProfile' | 'getSentSnapshot' | 'setSentSnapshots'
>;

export interface HttpAnswer {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	/** As received (text, Buffer or parsed JSON); `parseBody` makes it JSON when it is. */
	body: unknown;
}

/** One attempt: an HTTP answer, or an error without one. */
export interface SendOutcome extends Outcome {
	answer?: HttpAnswer;
}

export type SendRequest = (request: OutgoingRequest, options: { timeoutMs: number }) => Promise<SendOutcome>;

/** What the node read for one item (parameters are read per item). */
export interface ItemSettings {
	config: CompiledWebhookConfig;
	/** With Profile Source = Look Up in Store. */
	lookup?: { property: string; value: string; domainGroup: string };
	/** Keys snapshots of profiles not in the store (see `snapshotKey`). */
	identifierProperty: string;
	retries: number;
	timeoutMs: number;
	includeRequest: boolean;
}

export interface DeliveryOptions {
	store: DeliveryStore;
	/** Whose snapshots: one per workflow node. */
	goalId: string;
	/** The editor's manual run: read, send, show; write nothing. */
	manual: boolean;
	send: SendRequest;
	concurrency: number;
	/** Which errors without an HTTP answer are worth another attempt (default: all). */
	isRetryableError?: (error: unknown) => boolean;
	/** Backoff timing; tests shorten it. */
	retryTiming?: Partial<Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'jitter' | 'sleep' | 'signal'>>;
	/** Header names to hide in shown requests besides the policy's own. */
	secretHeaderNames?: readonly string[];
}

export interface ShownRequest {
	method: string;
	url: string;
	headers: Record<string, string>;
	body: string | null;
}

export type DeliveryResult =
	| {
			kind: 'skipped';
			index: number;
			profileId: string | null;
			profile?: Profile;
			skipped: { code: string; reason: string };
	  }
	| {
			kind: 'sent';
			index: number;
			profileId: string | null;
			profile: Profile;
			changes: ProfileChanges;
			response: { status: number; headers: HttpAnswer['headers']; body: unknown };
			attempts: number;
			request?: ShownRequest;
			/** Response mapping failed after the 2xx answer (the send is still recorded). */
			mappingError?: Error;
			/** Whether the store records this send (snapshot kept); false in manual runs. */
			marked: boolean;
	  }
	| {
			kind: 'failed';
			index: number;
			profileId: string | null;
			attempts: number;
			answer?: HttpAnswer;
			error?: unknown;
			request: ShownRequest;
			includeRequest: boolean;
	  }
	/** The item could not be handled: not usable as a profile, a configuration or template error. */
	| { kind: 'error'; index: number; error: Error };

/** A body as JSON when it is JSON text, else as it came. */
export function parseBody(body: unknown): unknown {
	if (Buffer.isBuffer(body)) body = body.toString('utf8');
	if (typeof body !== 'string') return body;
	try {
		return body.trim() ? JSON.parse(body) : body;
	} catch {
		return body;
	}
}

/** The request as sent, for output items and messages: the redaction policy applied. */
export function showRequest(request: OutgoingRequest, secretHeaderNames: readonly string[] = []): ShownRequest {
	const contentType = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
	return {
		method: request.method,
		url: redactUrl(request.url),
		headers: redactSecrets({ headers: request.headers }, { headerNames: secretHeaderNames }).headers as Record<
			string,
			string
		>,
		body: redactBody(request.body, contentType) ?? null,
	};
}

/** Writes one execution's snapshots together, in one transaction. */
export async function writeSentSnapshots(store: DeliveryStore, goalId: string, entries: SnapshotEntry[]): Promise<void> {
	if (entries.length === 0) return;
	await store.setSentSnapshots(goalId, entries);
}

export interface SnapshotEntry {
	key: string;
	properties: ProfileProperties;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * Runs every item through the pipeline with at most `concurrency` in flight, and hands each result
 * to `toOutput` (which may throw to stop the execution, as n8n does without continueOnFail).
 * Snapshots recorded before a stop are still written.
 */
export async function deliverItems<O>(
	items: ReadonlyArray<Record<string, unknown>>,
	settingsFor: (index: number) => ItemSettings,
	options: DeliveryOptions,
	toOutput: (result: DeliveryResult) => O | Promise<O>,
): Promise<O[]> {
	const pending = new Map<string, ProfileProperties>();
	try {
		return await mapWithConcurrency(items, options.concurrency, async (json, index) =>
			toOutput(await deliverOne(json, index, settingsFor, options, pending)),
		);
	} finally {
		await writeSentSnapshots(
			options.store,
			options.goalId,
			[...pending].map(([key, properties]) => ({ key, properties })),
		);
	}
}

async function resolveSource(
	json: Record<string, unknown>,
	settings: ItemSettings,
	store: DeliveryStore,
): Promise<{ source: ItemProfile; stored?: Profile } | { skip: { code: string; reason: string } }> {
	if (settings.lookup) {
		const { property, value, domainGroup } = settings.lookup;
		const match = await store.findByIdentifier(domainGroup || 'DEFAULT', property, value);
		if (!match.profile) {
			return { skip: { code: 'NOT_FOUND', reason: `No profile has ${property} = "${value}"` } };
		}
		return { source: { profile: match.profile, shape: 'profile' }, stored: match.profile };
	}
	const read = profileFromItem(json);
	if (!read.ok) throw new Error(read.reason);
	const id = read.item.profile.id;
	const stored = id ? await store.get(id) : undefined;
	return { source: read.item, stored };
}

async function deliverOne(
	json: Record<string, unknown>,
	index: number,
	settingsFor: (index: number) => ItemSettings,
	options: DeliveryOptions,
	pending: Map<string, ProfileProperties>,
): Promise<DeliveryResult> {
	let settings: ItemSettings;
	let resolved: Awaited<ReturnType<typeof resolveSource>>;
	try {
		settings = settingsFor(index);
		resolved = await resolveSource(json, settings, options.store);
	} catch (error) {
		return { kind: 'error', index, error: asError(error) };
	}
	if ('skip' in resolved) return { kind: 'skipped', index, profileId: null, skipped: resolved.skip };
	const { config } = settings;
	const { source, stored } = resolved;
	const profile = stored ?? source.profile;
	const profileId = profile.id || null;
	const propertyChange = config.settings.triggerOn === 'propertyChange';
	const key = propertyChange ? snapshotKey(source, profile, stored !== undefined, settings.identifierProperty) : undefined;

	let request: OutgoingRequest;
	try {
		const lastSent =
			key && !source.changes ? (pending.get(key) ?? (await options.store.getSentSnapshot(options.goalId, key))) : undefined;
		const decision = config.filter.decide(profile, { lastSent, changes: source.changes, events: source.events });
		if (!decision.send) {
			return { kind: 'skipped', index, profileId, profile, skipped: { code: decision.code, reason: decision.reason } };
		}
		request = config.request.render(buildProfileView(profile));
	} catch (error) {
		return { kind: 'error', index, error: asError(error) };
	}

	const result = await sendWithRetries(() => options.send(request, { timeoutMs: settings.timeoutMs }), {
		retries: settings.retries,
		baseDelayMs: 500,
		maxDelayMs: 30_000,
		jitter: 'full',
		...options.retryTiming,
		isRetryableError: options.isRetryableError,
	});
	const answer = (result as SendOutcome).answer;
	const shown = (): ShownRequest => showRequest(request, options.secretHeaderNames);
	if (!answer || answer.status < 200 || answer.status >= 300) {
		return {
			kind: 'failed',
			index,
			profileId,
			attempts: result.attempts,
			answer,
			error: result.error,
			request: shown(),
			includeRequest: settings.includeRequest || options.manual,
		};
	}

	// The API took the request: from here on it counts as sent, whatever response mapping does.
	const body = parseBody(answer.body);
	const mark = !options.manual;
	let after = profile;
	let changes: ProfileChanges = {};
	let mappingError: Error | undefined;
	try {
		const imports = config.responseMappings.importsFrom(body);
		if (imports.length && stored && mark) {
			const applied = await options.store.applyToProfile(profile.id, imports, [], { source: 'profileWebhook' });
			after = applied.profile ?? profile;
			changes = applied.changes;
		} else if (imports.length) {
			const outcome = applyImports(profile.properties, imports);
			after = { ...profile, properties: outcome.properties };
			changes = outcome.changes;
		}
	} catch (error) {
		mappingError = asError(error);
	}
	// Taken after response mapping, so values the API wrote back do not count as changes.
	if (key && mark) pending.set(key, config.filter.snapshot(after));
	return {
		kind: 'sent',
		index,
		profileId,
		profile: after,
		changes,
		response: { status: answer.status, headers: answer.headers, body },
		attempts: result.attempts,
		...(settings.includeRequest || options.manual ? { request: shown() } : {}),
		...(mappingError ? { mappingError } : {}),
		marked: mark,
	};
}
