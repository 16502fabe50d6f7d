/**
 * THE profile engine (DESIGN 1, 2.1): every rule about profiles is decided here, once, and every
 * node calls it. The store is a port of transactional primitives (lib/store/ProfileStore.ts); this
 * class opens a transaction, reads, computes the change set (import modes, legislation, consent,
 * limits, segments, timeline), and writes it with its change feed entry in the same transaction.
 */
import { randomUUID } from 'node:crypto';

import { ConfigurationError, ProfileWebhookError, ValidationError } from '../errors';
import { cleanList } from '../lists';
import type {
	ChangeFeedEntry,
	ChangeFeedInput,
	ProfileStore,
	SnapshotEntry,
	StoredProfile,
	StoredSegment,
	StoreTransaction,
} from '../store/ProfileStore';
import { StoreUnavailableError } from '../store/StoreUnavailableError';
import { applyImports } from './applyImport';
import { compileConditions, type Conditions, type ProfilePredicate } from './conditions';
import { consentDecision, nextLegislation, parseLegislation, recordConsent } from './consent';
import { profileSizeIssue, resolveLimits, type ProfileLimits } from './limits';
import { identifierProblem, isValidPropertyId, sameValues, valueKey } from './propertyValues';
import { normalizeTimelineEvents, sameTimelineEvent } from './timelineEvents';
import {
	ALL_VISITORS,
	CONSENTED_OBJECTIVES,
	DEFAULT_DOMAIN_GROUP,
	DEFAULT_LEGISLATION,
	MAX_TIMELINE_EVENTS,
	REFUSED_OBJECTIVES,
	SEGMENTS,
	type Profile,
	type ProfileChanges,
	type ProfileProperties,
	type PropertyImport,
	type PropertyValue,
	type TimelineEvent,
	type TimelineEventInput,
} from './types';

export { ALL_VISITORS };

/**
 * CREATED: a new profile was made. MODIFIED: a property, the legislation or the timeline changed.
 * UNCHANGED: found, nothing changed. NOTFOUND: no profile and none created. CONSENT_MISMATCH: the
 * consent rule said no; nothing was written.
 */
export type ApplyState = 'CREATED' | 'MODIFIED' | 'UNCHANGED' | 'NOTFOUND' | 'CONSENT_MISMATCH';

export interface ProfileIdentifier {
	property: string;
	value: unknown;
}

export interface WriteOptions {
	/** Requested legislation: applied on creation, tightens a stored one, never loosens it. */
	legislation?: string;
	/** Consent objectives the write needs (the one consent rule, lib/profiles/consent.ts). */
	objectives?: readonly string[];
	/** Return the profile with its timeline (costs a read of up to 250 events). */
	timeline?: boolean;
	/** Who writes, for the change feed: `trigger`, `profiles`, `profileWebhook`, ... */
	source?: string;
}

export interface RecordInput {
	identifier: ProfileIdentifier;
	imports?: PropertyImport[];
	events?: TimelineEventInput[];
}

export interface ApplyRequest extends WriteOptions, RecordInput {
	/** Default DEFAULT. */
	domainGroup?: string;
	/** Create the profile when none matches (identifier property set to the value). */
	create?: boolean;
}

export interface ApplyResult {
	state: ApplyState;
	/** Why, for CONSENT_MISMATCH. */
	reason?: string;
	/** The profile after the write; absent for NOTFOUND and for a refused creation. */
	profile?: Profile;
	/** Property -> { mode, before, after }, only for properties that changed. */
	changes: ProfileChanges;
	/** The timeline events written (an identical re-sent event is not written again). */
	events: TimelineEvent[];
	/** Several profiles matched the identifier; the earliest created was used. */
	ambiguous: boolean;
	segmentsEntered: string[];
	segmentsLeft: string[];
}

/** One record of a batch: its result, or why it was refused (rolled back alone). */
export type RecordOutcome = { ok: true; result: ApplyResult } | { ok: false; error: ProfileWebhookError };

/** What a caller answered for a record; kept for idempotent replays. */
export type RecordAnswer =
	| { state: ApplyState; profileId: string | null }
	| { error: { code: string; message: string } };

export interface BatchRequest extends WriteOptions {
	domainGroup?: string;
	create?: boolean;
	/** A record may arrive already refused (for example without an identifier): it is reported as is. */
	records: Array<RecordInput | { error: ProfileWebhookError }>;
	/**
	 * A repeated delivery of the same event inside the window answers the first answer and writes
	 * nothing. The key is kept in the store, in the same transaction as the write.
	 */
	idempotency?: { scope: string; key: string; windowMs: number };
}

export type BatchResult =
	| { replayed: false; outcomes: RecordOutcome[] }
	| { replayed: true; answers: RecordAnswer[] };

export interface CreateProfileInput {
	/** A UUID is generated when absent; an id already in use is a validation error. */
	id?: string;
	domainGroup?: string;
	legislation?: string;
	properties?: ProfileProperties;
	events?: TimelineEventInput[];
}

export interface IdentifierMatch {
	profile?: Profile;
	ambiguous: boolean;
}

export interface SearchRequest {
	conditions?: Conditions;
	domainGroup?: string;
	/** Profiles per page (default 100, at most 1,000). */
	limit?: number;
	/** From a previous page's `nextCursor`. */
	cursor?: string;
}

export interface SearchPage {
	profiles: Profile[];
	/** Pass it back for the next page; absent on the last one. */
	nextCursor?: string;
	/** How many stored profiles were looked at for this page. */
	scanned: number;
}

export interface ProfileExport {
	profile: Profile;
	/** What each outgoing node last sent for it. */
	sentSnapshots: Array<{ goalId: string; properties: ProfileProperties; updatedAt: string }>;
	/** Its change feed entries, oldest first. */
	changes: ChangeFeedEntry[];
}

export interface SegmentDefinition {
	name: string;
	description?: string;
	conditions: Conditions;
}

export interface SegmentInfo extends SegmentDefinition {
	builtIn: boolean;
	updatedAt?: string;
}

export interface ReevaluationProgress {
	scanned: number;
	total: number;
	entered: number;
	left: number;
}

export interface EngineOptions {
	limits?: Partial<ProfileLimits>;
	now?: () => Date;
	newId?: () => string;
	/** Profiles per transaction for scans that write (segment re-evaluation, bulk import). */
	pageSize?: number;
}

const SEARCH_DEFAULT_LIMIT = 100;
const SEARCH_MAX_LIMIT = 1_000;
const DEFAULT_PAGE_SIZE = 500;

interface CompiledSegment {
	name: string;
	updatedAt: string;
	matches: ProfilePredicate;
}

interface WriteContext {
	tx: StoreTransaction;
	now: string;
	source: string;
	segments: CompiledSegment[];
	indexed: ReadonlySet<string>;
}

function emptyResult(state: ApplyState, extra: Partial<ApplyResult> = {}): ApplyResult {
	return { state, changes: {}, events: [], ambiguous: false, segmentsEntered: [], segmentsLeft: [], ...extra };
}

function checkText(name: string, value: unknown): string {
	if (typeof value !== 'string' || value.trim() === '') {
		throw new ValidationError([{ target: name, message: 'must be a non-empty string' }]);
	}
	return value;
}

/** Carries a single record's refusal out of its transaction, so the transaction rolls back. */
class RefusedRecord extends Error {
	constructor(readonly refusal: ProfileWebhookError) {
		super(refusal.message);
	}
}

/** Store failures that are not the engine's refusals become 503: nothing was written. */
function asStoreFailure(error: unknown): unknown {
	if (error instanceof ProfileWebhookError) return error;
	return new StoreUnavailableError(`the profile store failed: ${(error as Error)?.message ?? String(error)}`, error);
}

export class ProfileEngine {
	readonly limits: ProfileLimits;
	private readonly now: () => Date;
	private readonly newId: () => string;
	private readonly pageSize: number;
	private readonly compiledSegments = new Map<string, CompiledSegment>();
	private readonly changeListeners = new Set<() => void>();
	/** Identifier properties this process has seen indexed (indexing is never undone). */
	private readonly knownIndexed = new Set<string>();
	/** Change feed entries appended by this process; a write that moved it wakes the listeners. */
	private feedWrites = 0;

	constructor(
		readonly store: ProfileStore,
		options: EngineOptions = {},
	) {
		this.limits = resolveLimits(options.limits);
		this.now = options.now ?? (() => new Date());
		this.newId = options.newId ?? randomUUID;
		this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
	}

	// --- writes ----------------------------------------------------------------------------

	/**
	 * The incoming request: every record in ONE transaction. A record that breaks a rule is rolled
	 * back alone and reported; the others are written. Store failures abort the whole transaction.
	 */
	async applyBatch(request: BatchRequest): Promise<BatchResult> {
		const domainGroup = request.domainGroup ?? DEFAULT_DOMAIN_GROUP;
		checkText('domainGroup', domainGroup);
		const requested = request.legislation === undefined ? undefined : parseLegislation(request.legislation);
		const objectives = request.objectives ?? [];
		const idempotency = request.idempotency;
		// Events are normalised before the transaction: ids and dates are decided once, so a retried
		// transaction writes the same events.
		const prepared = request.records.map((record) => {
			if ('error' in record) return record;
			try {
				return { ...record, normalizedEvents: normalizeTimelineEvents(record.events ?? [], this.now().toISOString(), this.newId) };
			} catch (error) {
				if (error instanceof ProfileWebhookError) return { error };
				throw error;
			}
		});
		try {
			return await this.write(async (tx) => {
				const now = this.now();
				if (idempotency) {
					const seen = await tx.getIdempotency(idempotency.scope, idempotency.key, now.toISOString());
					if (seen) return { replayed: true as const, answers: seen.answer as RecordAnswer[] };
				}
				const ctx = await this.writeContext(tx, request.source ?? 'engine', now);
				// Indexing a new identifier property happens outside the records' savepoints, so a
				// record rolled back alone cannot take the index with it.
				for (const record of prepared) {
					const property = 'error' in record ? undefined : record.identifier?.property;
					if (typeof property === 'string' && isValidPropertyId(property) && !ctx.indexed.has(property)) {
						await tx.addIndexedProperty(property, (profile) => indexKeys(profile, property));
						ctx.indexed = new Set([...ctx.indexed, property]);
					}
				}
				const outcomes: RecordOutcome[] = [];
				// A request of one record needs no savepoint (two round trips on PostgreSQL): its
				// refusal rolls the whole transaction back instead.
				const single = prepared.length === 1;
				for (const record of prepared) {
					if ('error' in record) {
						outcomes.push({ ok: false, error: record.error });
						continue;
					}
					try {
						const apply = () =>
							this.applyRecord(ctx, {
								domainGroup,
								create: request.create ?? false,
								legislation: requested,
								objectives,
								timeline: request.timeline,
								identifier: record.identifier,
								imports: record.imports ?? [],
								events: record.normalizedEvents,
							});
						const result = single ? await apply() : await tx.savepoint(apply);
						outcomes.push({ ok: true, result });
					} catch (error) {
						if (!(error instanceof ProfileWebhookError) || error instanceof StoreUnavailableError) throw error;
						if (single) throw new RefusedRecord(error);
						outcomes.push({ ok: false, error });
					}
				}
				if (idempotency) {
					await tx.purgeIdempotency(now.toISOString(), 20);
					await tx.putIdempotency(idempotency.scope, idempotency.key, {
						answer: outcomes.map(answerOf),
						expiresAt: new Date(now.getTime() + idempotency.windowMs).toISOString(),
					});
				}
				return { replayed: false as const, outcomes };
			});
		} catch (error) {
			if (error instanceof RefusedRecord) return { replayed: false, outcomes: [{ ok: false, error: error.refusal }] };
			throw asStoreFailure(error);
		}
	}

	/** One record; a refusal throws (ValidationError 422, or 400 for the identifier). */
	async applyByIdentifier(request: ApplyRequest): Promise<ApplyResult> {
		const batch = await this.applyBatch({ ...request, records: [request] });
		if (batch.replayed) throw new Error('unreachable: no idempotency key was given');
		const [outcome] = batch.outcomes;
		if (!outcome.ok) throw outcome.error;
		return outcome.result;
	}

	/** The same by profile id (for example after an outgoing request's response mapping). */
	async applyToProfile(
		profileId: string,
		imports: PropertyImport[],
		events: TimelineEventInput[] = [],
		options: WriteOptions = {},
	): Promise<ApplyResult> {
		checkText('profileId', profileId);
		const requested = options.legislation === undefined ? undefined : parseLegislation(options.legislation);
		const normalized = normalizeTimelineEvents(events, this.now().toISOString(), this.newId);
		try {
			return await this.write(async (tx) => {
				const stored = await tx.profileById(profileId);
				if (!stored) return emptyResult('NOTFOUND');
				const ctx = await this.writeContext(tx, options.source ?? 'engine', this.now());
				return await this.change(ctx, stored, false, {
					imports,
					events: normalized,
					legislation: requested,
					objectives: options.objectives ?? [],
					timeline: options.timeline,
				});
			});
		} catch (error) {
			throw asStoreFailure(error);
		}
	}

	/** Records consent or refusal of objectives (DESIGN 2.1's one rule reads them). */
	async recordConsent(
		profileId: string,
		change: { consented?: readonly string[]; refused?: readonly string[] },
		options: Pick<WriteOptions, 'source' | 'timeline'> = {},
	): Promise<ApplyResult> {
		checkText('profileId', profileId);
		try {
			return await this.write(async (tx) => {
				const stored = await tx.profileById(profileId);
				if (!stored) return emptyResult('NOTFOUND');
				const next = recordConsent(stored.profile.properties, change);
				const ctx = await this.writeContext(tx, options.source ?? 'consent', this.now());
				return await this.change(ctx, stored, false, {
					imports: [
						{ property: CONSENTED_OBJECTIVES, mode: 'set', values: next.consented },
						{ property: REFUSED_OBJECTIVES, mode: 'set', values: next.refused },
					],
					events: [],
					objectives: [],
					timeline: options.timeline,
				});
			});
		} catch (error) {
			throw asStoreFailure(error);
		}
	}

	/** Creates a profile from given properties (every value `set`); returns it with its timeline. */
	async create(input: CreateProfileInput = {}, source = 'engine'): Promise<Profile> {
		const id = input.id ?? this.newId();
		checkText('id', id);
		const domainGroup = checkText('domainGroup', input.domainGroup ?? DEFAULT_DOMAIN_GROUP);
		const legislation = parseLegislation(input.legislation ?? DEFAULT_LEGISLATION);
		const imports: PropertyImport[] = Object.entries(input.properties ?? {}).map(([property, values]) => ({
			property,
			mode: 'set',
			values,
		}));
		const events = normalizeTimelineEvents(input.events ?? [], this.now().toISOString(), this.newId);
		try {
			return await this.write(async (tx) => {
				if (await tx.profileById(id)) {
					throw new ValidationError([{ target: 'id', message: `a profile with id ${id} already exists` }]);
				}
				const ctx = await this.writeContext(tx, source, this.now());
				const result = await this.insert(ctx, { id, domainGroup, legislation }, imports, events, [], true);
				return result.profile as Profile;
			});
		} catch (error) {
			throw asStoreFailure(error);
		}
	}

	/**
	 * Many profiles, `pageSize` per transaction (bulk loads, migrations, benchmarks): the same
	 * rules as `create`, without a change feed entry per profile. Returns how many were written.
	 */
	async importProfiles(
		inputs: Iterable<CreateProfileInput> | AsyncIterable<CreateProfileInput>,
		options: { batchSize?: number; source?: string } = {},
	): Promise<number> {
		const batchSize = Math.max(1, options.batchSize ?? 5_000);
		let page: CreateProfileInput[] = [];
		let written = 0;
		const flush = async () => {
			if (!page.length) return;
			const batch = page;
			page = [];
			await this.store.write(async (tx) => {
				const ctx = await this.writeContext(tx, options.source ?? 'import', this.now());
				for (const input of batch) {
					const legislation = parseLegislation(input.legislation ?? DEFAULT_LEGISLATION);
					const imports: PropertyImport[] = Object.entries(input.properties ?? {}).map(([property, values]) => ({
						property,
						mode: 'set',
						values,
					}));
					const events = normalizeTimelineEvents(input.events ?? [], ctx.now, this.newId);
					await this.insert(
						ctx,
						{ id: input.id ?? this.newId(), domainGroup: input.domainGroup ?? DEFAULT_DOMAIN_GROUP, legislation },
						imports,
						events,
						[],
						false,
						false,
					);
				}
			});
			written += batch.length;
		};
		for await (const input of inputs) {
			page.push(input);
			if (page.length >= batchSize) await flush();
		}
		await flush();
		return written;
	}

	/**
	 * The right to be forgotten: the profile, its identifier entries, timeline, sent snapshots and
	 * change feed entries; then the store scrubs its files where it can. Returns whether it existed.
	 */
	async erase(profileId: string): Promise<boolean> {
		checkText('profileId', profileId);
		let existed: boolean;
		try {
			existed = await this.store.write(async (tx) => {
				const stored = await tx.profileById(profileId);
				if (!stored) return false;
				await tx.deleteProfile(stored);
				return true;
			});
		} catch (error) {
			throw asStoreFailure(error);
		}
		if (existed) await this.store.scrub();
		return existed;
	}

	// --- reads -----------------------------------------------------------------------------

	async get(profileId: string, options: { timeline?: boolean } = {}): Promise<Profile | undefined> {
		checkText('profileId', profileId);
		return this.read(async (tx) => {
			const stored = await tx.profileById(profileId);
			return stored ? await this.withTimeline(tx, stored, options.timeline) : undefined;
		});
	}

	/**
	 * Looks a profile up by an identifier property. The property is indexed on first use (a one-off
	 * scan of the store), then every lookup is an index read.
	 */
	async findByIdentifier(domainGroup: string, property: string, value: unknown): Promise<IdentifierMatch> {
		const key = this.identifierKey(domainGroup, { property, value });
		await this.ensureIndexed([property]);
		return this.read(async (tx) => {
			const rows = await tx.profilesByIdentifier(domainGroup, property, key, 2);
			return { profile: rows[0]?.profile, ambiguous: rows.length > 1 };
		});
	}

	/** Every profile holding the identifier value, earliest created first (at most `limit`). */
	async findAllByIdentifier(domainGroup: string, property: string, value: unknown, limit = 100): Promise<Profile[]> {
		const key = this.identifierKey(domainGroup, { property, value });
		const bound = Math.min(SEARCH_MAX_LIMIT, Math.max(0, Math.floor(limit)));
		if (!bound) return [];
		await this.ensureIndexed([property]);
		return this.read(async (tx) => (await tx.profilesByIdentifier(domainGroup, property, key, bound)).map((s) => s.profile));
	}

	/** Releases the store; calling it again does nothing. */
	async close(): Promise<void> {
		await this.store.close();
	}

	/** Starts indexing identifier properties (the trigger calls it at activation). */
	async ensureIndexed(properties: readonly string[]): Promise<void> {
		// A property once indexed stays indexed, so what this process saw indexed needs no new read.
		const wanted = cleanList(properties).filter((p) => !this.knownIndexed.has(p));
		if (!wanted.length) return;
		const indexed = await this.read((tx) => tx.indexedProperties());
		const missing = wanted.filter((p) => !indexed.has(p));
		if (missing.length) {
			try {
				await this.store.write(async (tx) => {
					for (const property of missing) await tx.addIndexedProperty(property, (profile) => indexKeys(profile, property));
				});
			} catch (error) {
				throw asStoreFailure(error);
			}
		}
		for (const property of wanted) this.knownIndexed.add(property);
	}

	/** Profiles matching conditions, in creation order, one page at a time; memory is one page. */
	async search(request: SearchRequest = {}): Promise<SearchPage> {
		const limit = Math.min(SEARCH_MAX_LIMIT, Math.max(1, Math.floor(request.limit ?? SEARCH_DEFAULT_LIMIT)));
		const matches = request.conditions ? compileConditions(request.conditions) : () => true;
		let after = request.cursor ? decodeCursor(request.cursor) : 0;
		const profiles: Profile[] = [];
		let scanned = 0;
		const scanPage = Math.max(limit, 1_000);
		for (;;) {
			const page = await this.read((tx) => tx.scanProfiles(after, scanPage, request.domainGroup));
			for (const stored of page) {
				scanned++;
				after = stored.key;
				if (matches(stored.profile.properties)) {
					profiles.push(stored.profile);
					if (profiles.length === limit) return { profiles, nextCursor: encodeCursor(after), scanned };
				}
			}
			if (page.length < scanPage) return { profiles, scanned };
		}
	}

	/** Everything stored about one profile (a data-access request). */
	async export(profileId: string): Promise<ProfileExport | undefined> {
		checkText('profileId', profileId);
		return this.read(async (tx) => {
			const stored = await tx.profileById(profileId);
			if (!stored) return undefined;
			return {
				profile: await this.withTimeline(tx, stored, true),
				sentSnapshots: await tx.snapshotsOfKey(profileId),
				changes: await tx.changesOfProfile(profileId),
			};
		});
	}

	async countProfiles(): Promise<number> {
		return this.read((tx) => tx.countProfiles());
	}

	// --- change feed -----------------------------------------------------------------------

	async readChanges(afterSeq: number, limit = 100): Promise<ChangeFeedEntry[]> {
		return this.read((tx) => tx.readChanges(afterSeq, limit));
	}

	/**
	 * Called after a write of this process committed change feed entries. Other processes' writes
	 * are seen by polling the feed. Returns the function that stops listening.
	 */
	onChange(listener: () => void): () => void {
		this.changeListeners.add(listener);
		return () => this.changeListeners.delete(listener);
	}

	async lastChangeSeq(): Promise<number> {
		return this.read((tx) => tx.lastChangeSeq());
	}

	async getCursor(consumerId: string): Promise<number | undefined> {
		return this.read((tx) => tx.getCursor(consumerId));
	}

	async setCursor(consumerId: string, seq: number): Promise<void> {
		await this.store.write((tx) => tx.setCursor(consumerId, seq));
	}

	// --- sent snapshots --------------------------------------------------------------------

	async getSentSnapshot(goalId: string, key: string): Promise<ProfileProperties | undefined> {
		checkText('goalId', goalId);
		checkText('key', key);
		return this.read((tx) => tx.getSnapshot(goalId, key));
	}

	async setSentSnapshot(goalId: string, key: string, properties: ProfileProperties): Promise<void> {
		await this.setSentSnapshots(goalId, [{ key, properties }]);
	}

	/** Many snapshots in one transaction (one durable write per execution, not per item). */
	async setSentSnapshots(goalId: string, entries: readonly SnapshotEntry[]): Promise<void> {
		checkText('goalId', goalId);
		if (!entries.length) return;
		for (const entry of entries) {
			checkText('key', entry.key);
			if (typeof entry.properties !== 'object' || entry.properties === null || Array.isArray(entry.properties)) {
				throw new ValidationError([{ target: 'properties', message: 'must be an object of property values' }]);
			}
		}
		try {
			await this.store.write((tx) => tx.putSnapshots(goalId, entries));
		} catch (error) {
			throw asStoreFailure(error);
		}
	}

	// --- segments --------------------------------------------------------------------------

	async listSegments(): Promise<SegmentInfo[]> {
		const stored = await this.read((tx) => tx.segments());
		return [
			{ name: ALL_VISITORS, description: 'Every profile', conditions: { conditions: [] }, builtIn: true },
			...stored
				.map((s) => ({
					name: s.name,
					description: s.description,
					conditions: s.conditions as Conditions,
					builtIn: false,
					updatedAt: s.updatedAt,
				}))
				.sort((a, b) => a.name.localeCompare(b.name)),
		];
	}

	/**
	 * Creates or replaces a segment definition, then re-evaluates every stored profile (in pages,
	 * each its own transaction, reporting progress). Membership is kept in `segments`.
	 */
	async defineSegment(
		definition: SegmentDefinition,
		onProgress?: (progress: ReevaluationProgress) => void,
	): Promise<ReevaluationProgress> {
		const name = this.segmentName(definition?.name);
		compileConditions(definition.conditions); // refuses a bad definition before storing it
		const stored: StoredSegment = {
			name,
			description: String(definition.description ?? ''),
			conditions: definition.conditions,
			updatedAt: this.now().toISOString(),
		};
		await this.store.write((tx) => tx.putSegment(stored));
		return this.reevaluate(`segment:${name}`, onProgress);
	}

	/** Deletes a definition and removes it from every profile's `segments`. */
	async deleteSegment(name: string, onProgress?: (progress: ReevaluationProgress) => void): Promise<boolean> {
		const segment = this.segmentName(name);
		const existed = await this.store.write((tx) => tx.deleteSegment(segment));
		if (!existed) return false;
		await this.reevaluate(`segment:${segment}`, onProgress, segment);
		return true;
	}

	// --- internals -------------------------------------------------------------------------

	private segmentName(name: unknown): string {
		if (typeof name !== 'string' || name.trim() === '') {
			throw new ConfigurationError([{ target: 'name', message: 'a segment needs a name' }]);
		}
		const trimmed = name.trim();
		if (trimmed === ALL_VISITORS) {
			throw new ConfigurationError([{ target: 'name', message: `"${ALL_VISITORS}" is built in and holds every profile` }]);
		}
		return trimmed;
	}

	private async reevaluate(
		source: string,
		onProgress?: (progress: ReevaluationProgress) => void,
		removed?: string,
	): Promise<ReevaluationProgress> {
		const total = await this.countProfiles();
		const progress: ReevaluationProgress = { scanned: 0, total, entered: 0, left: 0 };
		let after = 0;
		for (;;) {
			const last = await this.write(async (tx) => {
				const ctx = await this.writeContext(tx, source, this.now());
				const page = await tx.scanProfiles(after, this.pageSize);
				for (const stored of page) {
					const { properties, entered, left } = this.membership(ctx, stored.profile.properties, removed);
					progress.scanned++;
					if (!entered.length && !left.length) continue;
					progress.entered += entered.length;
					progress.left += left.length;
					const changes: ProfileChanges = {
						[SEGMENTS]: {
							mode: 'set',
							before: stored.profile.properties[SEGMENTS] ?? [],
							after: properties[SEGMENTS] ?? [],
						},
					};
					const updated: Profile = { ...stored.profile, properties, updatedAt: ctx.now };
					await tx.updateProfile(stored, updated);
					await this.appendFeed(ctx, updated, 'MODIFIED', changes, [], entered, left);
				}
				return page.length < this.pageSize ? undefined : page[page.length - 1].key;
			});
			onProgress?.({ ...progress });
			if (last === undefined) return progress;
			after = last;
		}
	}

	private async read<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		try {
			return await this.store.read(work);
		} catch (error) {
			throw asStoreFailure(error);
		}
	}

	private identifierKey(domainGroup: string, identifier: ProfileIdentifier | undefined): string {
		checkText('domainGroup', domainGroup);
		const property = identifier?.property;
		if (typeof property !== 'string' || property.trim() === '' || !isValidPropertyId(property)) {
			throw new ProfileWebhookError(400, 'MISSING_IDENTIFIER', 'The identifier property is missing or cannot be a property id');
		}
		const problem = identifierProblem(identifier?.value);
		if (problem) {
			throw new ProfileWebhookError(400, 'BAD_REQUEST', `The value of the identifier property "${property}" ${problem}`);
		}
		return valueKey(identifier?.value as PropertyValue);
	}

	private async writeContext(tx: StoreTransaction, source: string, now: Date): Promise<WriteContext> {
		const [definitions, indexed] = await Promise.all([tx.segments(), tx.indexedProperties()]);
		return { tx, now: now.toISOString(), source, segments: this.compile(definitions), indexed };
	}

	/** Compiled conditions are cached by name and version; a changed definition is compiled again. */
	private compile(definitions: StoredSegment[]): CompiledSegment[] {
		return definitions.map((definition) => {
			const cached = this.compiledSegments.get(definition.name);
			if (cached && cached.updatedAt === definition.updatedAt) return cached;
			let matches: ProfilePredicate;
			try {
				matches = compileConditions(definition.conditions);
			} catch {
				matches = () => false; // a definition stored by a newer release: nobody enters it here
			}
			const compiled = { name: definition.name, updatedAt: definition.updatedAt, matches };
			this.compiledSegments.set(definition.name, compiled);
			return compiled;
		});
	}

	/** Segment membership after a write: defined segments follow their conditions; other labels stay. */
	private membership(
		ctx: WriteContext,
		properties: ProfileProperties,
		removed?: string,
	): { properties: ProfileProperties; entered: string[]; left: string[] } {
		if (!ctx.segments.length && removed === undefined) return { properties, entered: [], left: [] };
		const before = (Object.hasOwn(properties, SEGMENTS) ? properties[SEGMENTS] : []).map(String);
		const defined = new Set(ctx.segments.map((s) => s.name));
		if (removed !== undefined) defined.add(removed);
		const member = new Set(ctx.segments.filter((s) => s.matches(properties)).map((s) => s.name));
		const after = before.filter((name) => !defined.has(name) || member.has(name));
		for (const name of member) if (!after.includes(name)) after.push(name);
		const entered = after.filter((name) => !before.includes(name));
		const left = before.filter((name) => !after.includes(name));
		if (!entered.length && !left.length) return { properties, entered, left };
		const next = { ...properties };
		if (after.length) next[SEGMENTS] = after;
		else delete next[SEGMENTS];
		return { properties: next, entered, left };
	}

	private async applyRecord(
		ctx: WriteContext,
		request: {
			domainGroup: string;
			create: boolean;
			legislation?: string;
			objectives: readonly string[];
			timeline?: boolean;
			identifier: ProfileIdentifier;
			imports: PropertyImport[];
			events: TimelineEvent[];
		},
	): Promise<ApplyResult> {
		const { domainGroup, identifier } = request;
		const key = this.identifierKey(domainGroup, identifier);
		const property = identifier.property;
		if (!ctx.indexed.has(property)) {
			await ctx.tx.addIndexedProperty(property, (profile) => indexKeys(profile, property));
			ctx.indexed = new Set([...ctx.indexed, property]);
		}
		if (request.create) await ctx.tx.lockIdentifier(domainGroup, property, key);
		const rows = await ctx.tx.profilesByIdentifier(domainGroup, property, key, 2);
		if (rows.length) {
			const result = await this.change(ctx, rows[0], rows.length > 1, request);
			return result;
		}
		if (!request.create) return emptyResult('NOTFOUND');
		return this.insert(
			ctx,
			{ id: this.newId(), domainGroup, legislation: nextLegislation(undefined, request.legislation) },
			[{ property, mode: 'set', values: [identifier.value as PropertyValue] }, ...request.imports],
			request.events,
			request.objectives,
			request.timeline ?? false,
		);
	}

	/** Applies a change set to a stored profile. Nothing is written for UNCHANGED or a refusal. */
	private async change(
		ctx: WriteContext,
		stored: StoredProfile,
		ambiguous: boolean,
		request: {
			imports: readonly PropertyImport[];
			events: readonly TimelineEvent[];
			legislation?: string;
			objectives: readonly string[];
			timeline?: boolean;
		},
	): Promise<ApplyResult> {
		const { tx } = ctx;
		const current = stored.profile;
		const imported = applyImports(current.properties, request.imports, this.limits); // throws before any write
		const legislation = nextLegislation(current.legislation, request.legislation);
		const consent = consentDecision({ legislation, properties: imported.properties }, request.objectives);
		if (!consent.allowed) {
			return emptyResult('CONSENT_MISMATCH', {
				reason: consent.reason,
				ambiguous,
				profile: await this.withTimeline(tx, stored, request.timeline),
			});
		}
		const { properties, entered, left } = this.membership(ctx, imported.properties);
		const changes = withSegmentChange(imported.changes, current.properties, properties);
		const serialized = JSON.stringify(properties);
		const tooBig = profileSizeIssue(serialized, this.limits);
		if (tooBig) throw new ValidationError([tooBig]);

		const known = request.events.length ? await tx.eventsByIds(stored, request.events.map((e) => e.id)) : [];
		const knownById = new Map(known.map((e) => [e.id, e]));
		const newEvents = request.events.filter((e) => {
			const existing = knownById.get(e.id);
			return !existing || !sameTimelineEvent(existing, e);
		});
		const legislationChanged = legislation !== current.legislation;
		if (!Object.keys(changes).length && !legislationChanged && !newEvents.length) {
			return emptyResult('UNCHANGED', { ambiguous, profile: await this.withTimeline(tx, stored, request.timeline) });
		}
		const updated: Profile = { ...current, legislation, updatedAt: ctx.now, properties };
		await tx.updateProfile(stored, updated);
		await this.syncIndex(ctx, stored, changes);
		const written = await this.writeEvents(ctx, stored, newEvents);
		if (!Object.keys(changes).length && !legislationChanged && !written.changed) {
			// Every new event was older than a full timeline: dropped at once, nothing changed.
			return emptyResult('UNCHANGED', { ambiguous, profile: await this.withTimeline(tx, stored, request.timeline) });
		}
		await this.appendFeed(ctx, updated, 'MODIFIED', changes, written.kept, entered, left, legislationChanged ? current.legislation : undefined);
		return {
			state: 'MODIFIED',
			profile: await this.withTimeline(tx, { ...stored, profile: updated }, request.timeline),
			changes,
			events: written.kept,
			ambiguous,
			segmentsEntered: entered,
			segmentsLeft: left,
		};
	}

	private async insert(
		ctx: WriteContext,
		identity: { id: string; domainGroup: string; legislation: string },
		imports: readonly PropertyImport[],
		events: readonly TimelineEvent[],
		objectives: readonly string[],
		timeline: boolean,
		feed = true,
	): Promise<ApplyResult> {
		const imported = applyImports({}, imports, this.limits);
		const consent = consentDecision({ legislation: identity.legislation, properties: imported.properties }, objectives);
		if (!consent.allowed) return emptyResult('CONSENT_MISMATCH', { reason: consent.reason });
		const { properties, entered } = this.membership(ctx, imported.properties);
		const changes = withSegmentChange(imported.changes, {}, properties);
		const tooBig = profileSizeIssue(JSON.stringify(properties), this.limits);
		if (tooBig) throw new ValidationError([tooBig]);
		const profile: Profile = { ...identity, createdAt: ctx.now, updatedAt: ctx.now, properties };
		const stored = await ctx.tx.insertProfile(profile);
		await this.syncIndex(ctx, stored, changes);
		const written = await this.writeEvents(ctx, stored, events);
		if (feed) await this.appendFeed(ctx, profile, 'CREATED', changes, written.kept, entered, []);
		return {
			state: 'CREATED',
			profile: await this.withTimeline(ctx.tx, stored, timeline),
			changes,
			events: written.kept,
			ambiguous: false,
			segmentsEntered: entered,
			segmentsLeft: [],
		};
	}

	/** Only indexed properties (the identifier properties in use) have index entries. */
	private async syncIndex(ctx: WriteContext, stored: StoredProfile, changes: ProfileChanges): Promise<void> {
		for (const [property, change] of Object.entries(changes)) {
			if (!ctx.indexed.has(property)) continue;
			const before = new Set(change.before.map(valueKey));
			const after = new Set(change.after.filter((v) => identifierProblem(v) === undefined).map(valueKey));
			const add = [...after].filter((k) => !before.has(k));
			const remove = [...before].filter((k) => !after.has(k));
			if (add.length || remove.length) await ctx.tx.updateIdentifierKeys(stored, property, add, remove);
		}
	}

	/** Writes new events; trims the timeline only when the count says it is over the cap. */
	private async writeEvents(
		ctx: WriteContext,
		stored: StoredProfile,
		events: readonly TimelineEvent[],
	): Promise<{ kept: TimelineEvent[]; changed: boolean }> {
		if (!events.length) return { kept: [], changed: false };
		const count = await ctx.tx.upsertEvents(stored, events);
		if (count <= MAX_TIMELINE_EVENTS) return { kept: [...events], changed: true };
		const dropped = new Set(await ctx.tx.trimTimeline(stored, MAX_TIMELINE_EVENTS));
		const kept = events.filter((e) => !dropped.has(e.id));
		const newIds = new Set(events.map((e) => e.id));
		const droppedStored = [...dropped].some((id) => !newIds.has(id));
		return { kept, changed: kept.length > 0 || droppedStored };
	}

	private async appendFeed(
		ctx: WriteContext,
		profile: Profile,
		state: 'CREATED' | 'MODIFIED',
		changes: ProfileChanges,
		events: TimelineEvent[],
		entered: string[],
		left: string[],
		legislationBefore?: string,
	): Promise<void> {
		const entry: ChangeFeedInput = {
			profileId: profile.id,
			domainGroup: profile.domainGroup,
			state,
			source: ctx.source,
			changes,
			events,
			segmentsEntered: entered,
			segmentsLeft: left,
			committedAt: ctx.now,
			...(legislationBefore !== undefined ? { legislation: { before: legislationBefore, after: profile.legislation } } : {}),
		};
		await ctx.tx.appendChange(entry);
		this.feedWrites++;
	}

	/**
	 * A write transaction that wakes this process's change listeners once it committed change feed
	 * entries (a Profile Change Trigger then reads at once instead of at its next poll).
	 */
	private async write<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
		const before = this.feedWrites;
		const result = await this.store.write(work);
		if (this.feedWrites !== before) {
			for (const listener of this.changeListeners) {
				try {
					listener();
				} catch {
					// a listener's failure is its own; the write has committed
				}
			}
		}
		return result;
	}

	private async withTimeline(tx: StoreTransaction, stored: StoredProfile, timeline: boolean | undefined): Promise<Profile> {
		if (!timeline) return stored.profile;
		return { ...stored.profile, timeline: await tx.timeline(stored) };
	}
}

/** The index keys of one property of a profile (identifier-shaped values only). */
function indexKeys(profile: Profile, property: string): string[] {
	const values = Object.hasOwn(profile.properties, property) ? profile.properties[property] : [];
	return [...new Set(values.filter((v) => identifierProblem(v) === undefined).map(valueKey))];
}

/** Adds the `segments` change membership made, when the imports did not already report it. */
function withSegmentChange(
	changes: ProfileChanges,
	before: Readonly<ProfileProperties>,
	after: Readonly<ProfileProperties>,
): ProfileChanges {
	const was = Object.hasOwn(before, SEGMENTS) ? before[SEGMENTS] : [];
	const now = Object.hasOwn(after, SEGMENTS) ? after[SEGMENTS] : [];
	if (sameValues(was, now)) {
		if (!changes[SEGMENTS]) return changes;
		const { [SEGMENTS]: _dropped, ...rest } = changes;
		return rest;
	}
	return { ...changes, [SEGMENTS]: { mode: changes[SEGMENTS]?.mode ?? 'set', before: [...was], after: [...now] } };
}

function answerOf(outcome: RecordOutcome): RecordAnswer {
	return outcome.ok
		? { state: outcome.result.state, profileId: outcome.result.profile?.id ?? null }
		: { error: { code: outcome.error.code, message: outcome.error.message } };
}

/** Search cursors are opaque to callers. */
function encodeCursor(key: number): string {
	return Buffer.from(`k:${key}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
	const text = Buffer.from(cursor, 'base64url').toString();
	const key = text.startsWith('k:') ? Number(text.slice(2)) : Number.NaN;
	if (!Number.isSafeInteger(key) || key < 0) {
		throw new ValidationError([{ target: 'cursor', message: 'is not a cursor this search returned' }]);
	}
	return key;
}

