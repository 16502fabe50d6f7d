/**
 * One incoming profile request from start to answer: address, credentials, body, identifiers,
 * mappings, consent, then one atomic store update per record. Everything that can refuse the
 * request is checked before the first write, so a refused request changes no profile.
 */
import { ProfileWebhookError, ValidationError, type ValidationIssue } from '../errors';
import {
	CONSENTED_OBJECTIVES,
	DEFAULT_DOMAIN_GROUP,
	REFUSED_OBJECTIVES,
	type Profile,
	type ProfileChanges,
	type PropertyImport,
	type PropertyValue,
	type TimelineEvent,
	type TimelineEventInput,
} from '../profiles/types';
import { toNumber } from '../profiles/propertyValues';
import type { ApplyResult, ProfileStore } from '../store/ProfileStore';
import { verifyApiKey } from './apiKey';
import { redactFields, redactSecrets } from './redaction';
import { firstString } from './firstString';
import { resolveIdentifier } from './identifier';
import { isAllowed } from './ipAllowlist';
import { readRequestData, type RequestData } from './requestData';
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
}

export type ProfileState = 'CREATED' | 'MODIFIED' | 'UNCHANGED' | 'NOTFOUND' | 'CONSENT_MISMATCH';

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
	/** What the caller gets: one state, or one state per record for a batch. */
	answer:
		| { state: ProfileState; profileId: string | null }
		| { results: Array<{ state: ProfileState; profileId: string | null }> };
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

/** Dates from JSON or forms: ISO 8601 strings, or Unix time in seconds or milliseconds. */
export function parseEventDate(value: PropertyValue): string | undefined {
	const numeric = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(String(value)) ? Number(value) : NaN;
	const date = Number.isFinite(numeric)
		? new Date(numeric < 1e11 ? numeric * 1000 : numeric)
		: new Date(String(value));
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function planRecord(
	config: CompiledTriggerConfig,
	record: RequestData,
	request: InboundRequest,
	index: number | undefined,
	receivedAt: string,
	issues: ValidationIssue[],
): PlannedRecord {
	const where = index === undefined ? '' : `record ${index}: `;
	let identifier: { property: string; value: string };
	try {
		identifier = resolveIdentifier({
			identifierProperty: config.identifierProperty,
			query: request.query,
			source: config.identifierField,
			record,
		});
	} catch (error) {
		if (error instanceof ProfileWebhookError && index !== undefined) {
			throw new ProfileWebhookError(error.status, error.code, `${where}${error.message}`);
		}
		throw error;
	}

	const imports: PropertyImport[] = [];
	for (const mapping of config.mappings) {
		const values = mapping.selector.select(record);
		if (!values.length) continue;
		if (mapping.mode === 'sum') {
			for (const value of values.filter((v) => toNumber(v) === undefined)) {
				issues.push({
					target: `${where}${mapping.property}`,
					message: `"${String(value)}" from ${mapping.selector.field} is not a number, so it cannot be summed`,
				});
			}
		}
		imports.push({ property: mapping.property, mode: mapping.mode, values });
	}

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
					message: `"${String(rawDate)}" from ${event.date!.field} is not a date`,
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
	return { identifier, imports, events };
}

/** Consent as BlueConic judges it: GDPR needs explicit consent, others pass unless they refused. */
export function consentRefusal(
	objectives: string[],
	profile: Profile,
	legislation: string,
): string | undefined {
	if (!objectives.length) return undefined;
	const consented = (profile.properties[CONSENTED_OBJECTIVES] ?? []).map(String);
	const refused = (profile.properties[REFUSED_OBJECTIVES] ?? []).map(String);
	if (legislation.toUpperCase() === 'GDPR') {
		return objectives.some((o) => consented.includes(o))
			? undefined
			: `The profile falls under GDPR and has not consented to any of: ${objectives.join(', ')}`;
	}
	const refusedOnes = objectives.filter((o) => refused.includes(o));
	return refusedOnes.length
		? `The profile refused the objective${refusedOnes.length > 1 ? 's' : ''}: ${refusedOnes.join(', ')}`
		: undefined;
}

function toOutcome(
	result: ApplyResult,
	identifier: PlannedRecord['identifier'],
	domainGroup: string,
): RecordOutcome {
	const state: ProfileState = result.state === 'REFUSED' ? 'CONSENT_MISMATCH' : result.state;
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

export async function handleProfileRequest(
	config: CompiledTriggerConfig,
	request: InboundRequest,
	store: ProfileStore,
	secret?: ApiKeySecret,
	authentication: AuthenticationOptions = {},
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

	const data = readRequestData({
		method: request.method,
		contentType: request.contentType,
		body: request.body,
		rawBody: request.rawBody,
		query: request.query,
		maxBodySize: config.maxBodySize,
	});
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
	const legislation = firstString(request.query.legislation)?.toUpperCase();
	const create =
		config.createProfiles ||
		(config.allowCreateFromUrl && firstString(request.query.createProfiles) === 'true');
	const receivedAt = new Date().toISOString();

	const issues: ValidationIssue[] = [];
	const plans = records.map(({ record, index }) =>
		planRecord(config, record, request, index, receivedAt, issues),
	);
	if (issues.length) throw new ValidationError(issues);

	const outcomes: RecordOutcome[] = [];
	for (const plan of plans) {
		let result: ApplyResult;
		try {
			result = await store.applyByIdentifier({
				domainGroup,
				identifier: plan.identifier,
				create,
				legislation,
				precondition: (profile) =>
					consentRefusal(config.objectives, profile, legislation ?? profile.legislation),
				imports: plan.imports,
				events: plan.events,
			});
		} catch (error) {
			if (error instanceof ProfileWebhookError) throw error;
			throw new ProfileWebhookError(
				503,
				'STORE_UNAVAILABLE',
				`The profile store is unavailable: ${(error as Error).message}`,
			);
		}
		outcomes.push(toOutcome(result, plan.identifier, domainGroup));
	}

	const brief = (o: RecordOutcome) => ({ state: o.state, profileId: o.profileId });
	const headerNames = secret ? [secret.headerName] : [];
	const redacted = redactSecrets(
		{ headers: request.headers, query: request.query },
		// The policy removes apiKey and access_token (RFC 6750's URL form of a bearer token) too.
		{ headerNames },
	);
	return {
		answer: config.records ? { results: outcomes.map(brief) } : brief(outcomes[0]),
		outcomes,
		emitted: outcomes.filter(
			(o) => config.emitUnmatched || (o.state !== 'NOTFOUND' && o.state !== 'CONSENT_MISMATCH'),
		),
		request: {
			method: request.method,
			query: redacted.query,
			headers: redacted.headers,
			body: redactFields(data.kind === 'query' ? {} : data.kind === 'json' ? data.data : request.body),
		},
	};
}

