/**
 * One incoming profile request from start to answer: address, credentials, body, identifiers,
 * mappings, consent, then one atomic store update per record. Everything that can refuse the
 * request is checked before the first write, so a refused request changes no profile.
 */
import { ProfileWebhookError, ValidationError, type ValidationIssue } from '../errors';
import {
	DEFAULT_DOMAIN_GROUP,
	type Profile,
	type ProfileChanges,
	type PropertyImport,
	type TimelineEvent,
	type TimelineEventInput,
} from '../profiles/types';
import { parseLegislation } from '../profiles/consent';
import { parseEventDate } from '../profiles/timelineEvents';
import type { ApplyResult, ProfileEngine, RecordAnswer, RecordInput } from '../profiles/engine';
import { verifyApiKey } from './apiKey';
import { redactFields, redactSecrets } from './redaction';
import { firstString } from './firstString';
import { eventIdOf } from './idempotency';
import { resolveIdentifier } from './identifier';
import { isAllowed } from './ipAllowlist';
import { readRequestData, type RequestData } from './requestData';
import { verifySignature } from './signatures';
import type { CompiledTriggerConfig } from './triggerConfig';

export interface InboundRequest {
	method: string;
	/** The client address as n8n derives it (express `req.ip`, which honours N8N_PROXY_HOPS). */
	ip: string | undefined;
	headers: Record<string, string | string[] | undefined>;
	query: Record<string, unknown>;
	contentType?: string;
	/** What n8n parsed. */
	body: unknown;
	rawBody?: Buffer;
}

export interface ApiKeySecret {
	apiKey: string;
	headerName: string;
}

export interface AuthenticationOptions {
	/**
	 * Accepts the request's Authorization header or throws (a 401/403 ProfileWebhookError with its
	 * WWW-Authenticate header, or 503). Required when the trigger's authentication is `oAuth2`.
	 */
	verifyBearer?: (authorization: string | string[] | undefined) => Promise<unknown>;
	/** The HMAC keys of the signature credential (see signatures.ts); required when requests are signed. */
	signatureKeys?: readonly Buffer[];
	/** For tests: the time the signature's timestamp is compared with. */
	now?: () => number;
}

export type ProfileState = 'CREATED' | 'MODIFIED' | 'UNCHANGED' | 'NOTFOUND' | 'CONSENT_MISMATCH';

/** A batch record the engine refused (rolled back alone), as the caller sees it. */
export interface RecordError {
	error: { code: string; message: string };
}

export interface RecordOutcome {
	state: ProfileState;
	profileId: string | null;
	identifier: { property: string; value: string };
	domainGroup: string;
	legislation: string | null;
	ambiguous: boolean;
	changes: ProfileChanges;
	profile: Profile | null;
	timelineEvents: TimelineEvent[];
	reason?: string;
}

export interface HandledRequest {
	/** What the caller gets: one state, or one state (or error) per record for a batch. */
	answer:
		| { state: ProfileState; profileId: string | null }
		| { results: Array<{ state: ProfileState; profileId: string | null } | RecordError> };
	/** The same delivery was answered before (idempotency): nothing was written, nothing emitted. */
	replayed?: boolean;
	outcomes: RecordOutcome[];
	/** The outcomes that start an execution (unmatched ones only with emitUnmatched). */
	emitted: RecordOutcome[];
	/** The request as received, with every secret removed. */
	request: {
		method: string;
		query: Record<string, unknown>;
		headers: Record<string, unknown>;
		body: unknown;
	};
}

interface PlannedRecord {
	identifier: { property: string; value: string };
	imports: PropertyImport[];
	events: TimelineEventInput[];
}


/**
 * What one record asks of the engine. Problems that belong to the request data (no identifier, a
 * date that is not a date) refuse the record; the engine decides everything about the profile.
 */
function planRecord(
	config: CompiledTriggerConfig,
	record: RequestData,
	request: InboundRequest,
	index: number | undefined,
	receivedAt: string,
): PlannedRecord {
	const where = index === undefined ? '' : `record ${index}: `;
	const identifier = resolveIdentifier({
		identifierProperty: config.identifierProperty,
		query: request.query,
		source: config.identifierField,
		record,
	});

	const imports: PropertyImport[] = [];
	for (const mapping of config.mappings) {
		const values = mapping.selector.select(record);
		if (values.length) imports.push({ property: mapping.property, mode: mapping.mode, values });
	}

	const issues: ValidationIssue[] = [];
	const events: TimelineEventInput[] = [];
	for (const event of config.timelineEvents) {
		const data: Record<string, unknown> = {};
		for (const { key, selector } of event.data) {
			const values = selector.select(record);
			if (values.length) data[key] = values.length === 1 ? values[0] : values;
		}
		if (event.data.length && !Object.keys(data).length) continue;
		const rawDate = event.date?.select(record)[0];
		let date = receivedAt;
		if (rawDate !== undefined) {
			const parsed = parseEventDate(rawDate);
			if (!parsed) {
				issues.push({
					target: `${where}${event.eventType}`,
					message: `the value from ${event.date!.field} is not a date`,
				});
			} else {
				date = parsed;
			}
		}
		const id = event.id?.select(record)[0];
		events.push({
			eventType: event.eventType,
			date,
			data,
			...(id !== undefined ? { id: String(id) } : {}),
		});
	}
	if (issues.length) throw new ValidationError(issues);
	return { identifier, imports, events };
}

function toOutcome(
	result: ApplyResult,
	identifier: PlannedRecord['identifier'],
	domainGroup: string,
): RecordOutcome {
	const state: ProfileState = result.state;
	return {
		state,
		profileId: result.profile?.id ?? null,
		identifier,
		domainGroup,
		legislation: result.profile?.legislation ?? null,
		ambiguous: result.ambiguous,
		changes: state === 'CONSENT_MISMATCH' ? {} : result.changes,
		profile: result.profile ?? null,
		timelineEvents: result.events,
		...(result.reason ? { reason: result.reason } : {}),
	};
}

export interface HandleOptions {
	/** Who writes, for the change feed (default `trigger`). */
	source?: string;
	/** Where idempotency keys of this trigger live (workflow and node): keys are per trigger. */
	idempotencyScope?: string;
}

export async function handleProfileRequest(
	config: CompiledTriggerConfig,
	request: InboundRequest,
	store: ProfileEngine,
	secret?: ApiKeySecret,
	authentication: AuthenticationOptions = {},
	options: HandleOptions = {},
): Promise<HandledRequest> {
	if (!isAllowed(config.allowlist, request.ip)) {
		throw new ProfileWebhookError(
			403,
			'FORBIDDEN',
			`The address ${request.ip ?? '(unknown)'} is not in this webhook's IP allowlist`,
		);
	}
	if (config.authentication === 'apiKey') {
		if (!secret?.apiKey) {
			throw new ProfileWebhookError(
				401,
				'UNAUTHORIZED',
				'This webhook has no API key configured: select a Profile Webhook API credential',
			);
		}
		verifyApiKey({
			expected: secret.apiKey,
			headerName: secret.headerName,
			headerValue: request.headers[secret.headerName.toLowerCase()],
			queryValue: firstString(request.query.apiKey),
			allowInUrl: config.allowApiKeyInUrl,
		});
	}
	if (config.authentication === 'oAuth2') {
		if (!authentication.verifyBearer) {
			throw new ProfileWebhookError(
				401,
				'UNAUTHORIZED',
				'This webhook has no OAuth2 configuration: select a Profile Webhook Inbound OAuth2 credential',
			);
		}
		await authentication.verifyBearer(request.headers.authorization);
	}
	if (config.signature) {
		if (!authentication.signatureKeys?.length) {
			throw new ProfileWebhookError(
				401,
				'UNAUTHORIZED',
				'This webhook checks signatures but has no signing secret: select a Profile Webhook Signature credential',
			);
		}
		verifySignature(config.signature, authentication.signatureKeys, request, (authentication.now ?? Date.now)());
	}

	const data = readRequestData({
		method: request.method,
		contentType: request.contentType,
		body: request.body,
		rawBody: request.rawBody,
		query: request.query,
		maxBodySize: config.maxBodySize,
	});
	const eventId = eventIdOf(config.idempotency, request, data);
	// Keys are scoped to this trigger: two triggers receiving the same id from two platforms are
	// two deliveries.
	const idempotency =
		eventId && config.idempotency
			? { scope: options.idempotencyScope ?? 'trigger', key: eventId, windowMs: config.idempotency.windowMs }
			: undefined;
	const records: Array<{ record: RequestData; index?: number }> = config.records
		? config.records
				.select(data.data)
				.map((record, index) => ({ record: { kind: 'json', data: record }, index }))
		: [{ record: data }];
	if (config.records && !records.length) {
		throw new ProfileWebhookError(
			400,
			'BAD_REQUEST',
			`The records path ${config.settings.recordsPath} selects no records in this request`,
		);
	}

	const domainGroup = firstString(request.query.domainGroup) ?? DEFAULT_DOMAIN_GROUP;
	const legislationText = firstString(request.query.legislation);
	const legislation = legislationText === undefined ? undefined : parseLegislation(legislationText);
	const create =
		config.createProfiles ||
		(config.allowCreateFromUrl && firstString(request.query.createProfiles) === 'true');
	const receivedAt = new Date().toISOString();

	// A single request refused for its data is a 4xx; in a batch, the record alone is refused.
	const plans: Array<PlannedRecord | { error: ProfileWebhookError }> = records.map(({ record, index }) => {
		try {
			return planRecord(config, record, request, index, receivedAt);
		} catch (error) {
			if (error instanceof ProfileWebhookError && config.records) return { error };
			throw error;
		}
	});

	const batch = await store.applyBatch({
		domainGroup,
		create,
		legislation,
		objectives: config.objectives,
		source: options.source ?? 'trigger',
		records: plans.map((plan) => ('error' in plan ? plan : ({ ...plan } as RecordInput))),
		// A repeated event id inside the window answers the first delivery's answer and writes
		// nothing; the engine keeps the keys in the store, in the same transaction as the write.
		...(idempotency ? { idempotency } : {}),
	});

	const redactedRequest = redactedView(request, data, secret);
	if (batch.replayed) {
		const answers = batch.answers.map(toAnswer);
		if (!config.records && 'error' in answers[0]) throw replayedError(answers[0]);
		return {
			answer: config.records ? { results: answers } : (answers[0] as { state: ProfileState; profileId: string | null }),
			replayed: true,
			outcomes: [],
			emitted: [],
			request: redactedRequest,
		};
	}

	const outcomes: RecordOutcome[] = [];
	const answers: Array<{ state: ProfileState; profileId: string | null } | RecordError> = [];
	batch.outcomes.forEach((outcome, i) => {
		if (!outcome.ok) {
			if (!config.records) throw outcome.error;
			answers.push(toAnswer({ error: { code: outcome.error.code, message: `record ${i}: ${outcome.error.message}` } }));
			return;
		}
		const plan = plans[i] as PlannedRecord;
		const o = toOutcome(outcome.result, plan.identifier, domainGroup);
		outcomes.push(o);
		answers.push({ state: o.state, profileId: o.profileId });
	});

	return {
		answer: config.records ? { results: answers } : (answers[0] as { state: ProfileState; profileId: string | null }),
		outcomes,
		emitted: outcomes.filter(
			(o) => config.emitUnmatched || (o.state !== 'NOTFOUND' && o.state !== 'CONSENT_MISMATCH'),
		),
		request: redactedRequest,
	};
}

function toAnswer(answer: RecordAnswer): { state: ProfileState; profileId: string | null } | RecordError {
	return 'error' in answer ? { error: { code: answer.error.code, message: answer.error.message } } : answer;
}

function replayedError(answer: RecordError): ProfileWebhookError {
	return new ProfileWebhookError(422, 'VALIDATION_FAILED', answer.error.message);
}

function redactedView(request: InboundRequest, data: RequestData, secret: ApiKeySecret | undefined): HandledRequest['request'] {
	const headerNames = secret ? [secret.headerName] : [];
	const redacted = redactSecrets(
		{ headers: request.headers, query: request.query },
		// The policy (./redaction) already removes apiKey, access_token and the other secret names.
		{ headerNames },
	);
	return {
		method: request.method,
		query: redacted.query,
		headers: redacted.headers,
		body: redactFields(data.kind === 'query' ? {} : data.kind === 'json' ? data.data : request.body),
	};
}

