/**
 * The Profile Webhook's configuration compiled once (filters, request templates, response
 * mappings), and the per-item steps around the HTTP call: which profile, whether to send, what
 * to store after a 2xx answer.
 */
import { collectIssues as gather, ConfigurationError, type ValidationIssue } from '../errors';
import { memoizeByContent } from '../memoizeByContent';
import { applyImports } from '../profiles/applyImport';
import type {
	Profile,
	ProfileChanges,
	ProfileProperties,
	TimelineEvent,
} from '../profiles/types';
import type { ProfileEngine } from '../profiles/engine';
import { buildProfileView } from '../templates/profileView';
import { compileFilters, type Decision, type ProfileFilter, type TriggerOn } from './filters';
import { compileRequest, type CompiledRequest, type OutgoingRequest, type RequestConfig } from './request';
import {
	compileResponseMappings,
	type CompiledResponseMappings,
	type ResponseMapping,
} from './responseMapping';

export interface WebhookSettings extends RequestConfig {
	profileSource: 'input' | 'lookup';
	segments: string[];
	objectives: string[];
	triggerOn: TriggerOn;
	triggerProperties: string[];
	triggerEvents: string[];
	responseMappings: ResponseMapping[];
}

export interface CompiledWebhookConfig {
	settings: WebhookSettings;
	filter: ProfileFilter;
	request: CompiledRequest;
	responseMappings: CompiledResponseMappings;
}

export function compileWebhookConfig(settings: WebhookSettings): CompiledWebhookConfig {
	const issues: ValidationIssue[] = [];
	const filter = gather(issues, () =>
		compileFilters({
			segments: settings.segments,
			objectives: settings.objectives,
			triggerOn: settings.triggerOn,
			triggerProperties: settings.triggerProperties,
			triggerEvents: settings.triggerEvents,
		}),
	);
	const request = gather(issues, () => compileRequest(settings));
	const responseMappings = gather(issues, () => compileResponseMappings(settings.responseMappings));
	if (issues.length) throw new ConfigurationError(issues);
	return { settings, filter: filter!, request: request!, responseMappings: responseMappings! };
}

/** compileWebhookConfig memoised by content: one compile per configuration, not per item. */
export const getWebhookConfig = memoizeByContent(compileWebhookConfig, 200);

/** What an input item says about its profile: a trigger output item or a plain profile. */
export interface ItemProfile {
	profile: Profile;
	changes?: ProfileChanges;
	events?: TimelineEvent[];
}

function asProfile(value: unknown): Profile | undefined {
	if (!value || typeof value !== 'object') return undefined;
	const candidate = value as Partial<Profile>;
	if (typeof candidate.id !== 'string' || !candidate.properties || typeof candidate.properties !== 'object') {
		return undefined;
	}
	return {
		id: candidate.id,
		domainGroup: candidate.domainGroup ?? 'DEFAULT',
		legislation: candidate.legislation ?? 'NONE',
		createdAt: candidate.createdAt ?? '',
		updatedAt: candidate.updatedAt ?? '',
		properties: candidate.properties as ProfileProperties,
	};
}

/** Reads the profile an input item carries (`profile` of a trigger or webhook output, or itself). */
export function profileFromItem(json: Record<string, unknown>): ItemProfile | undefined {
	const nested = asProfile(json.profile);
	if (nested) {
		return {
			profile: nested,
			changes: (json.changes as ProfileChanges | undefined) ?? undefined,
			events: Array.isArray(json.timelineEvents) ? (json.timelineEvents as TimelineEvent[]) : undefined,
		};
	}
	const plain = asProfile(json);
	return plain ? { profile: plain } : undefined;
}

export type Preparation =
	| { send: false; profile?: Profile; decision: Exclude<Decision, { send: true }> }
	| { send: true; profile: Profile; request: OutgoingRequest; stored: boolean };

/**
 * Everything before the HTTP call: the current profile (from the store when it is there), the
 * filters, and the rendered request. Throws TemplateRenderError when a value cannot be placed.
 */
export async function prepareDelivery(
	config: CompiledWebhookConfig,
	source: ItemProfile,
	store: ProfileEngine,
	goalId: string,
): Promise<Preparation> {
	const current = await store.get(source.profile.id);
	const profile = current ?? source.profile;
	const lastSent =
		config.settings.triggerOn === 'propertyChange' && !source.changes
			? await store.getSentSnapshot(goalId, profile.id)
			: undefined;
	const decision = config.filter.decide(profile, {
		lastSent,
		changes: source.changes,
		events: source.events,
	});
	if (!decision.send) return { send: false, profile, decision };
	return {
		send: true,
		profile,
		request: config.request.render(buildProfileView(profile)),
		stored: current !== undefined,
	};
}

/** After a 2xx answer: map the response into the profile, then remember what was sent. */
export async function completeDelivery(
	config: CompiledWebhookConfig,
	prepared: Extract<Preparation, { send: true }>,
	responseBody: unknown,
	store: ProfileEngine,
	goalId: string,
): Promise<{ profile: Profile; changes: ProfileChanges }> {
	const imports = config.responseMappings.importsFrom(responseBody);
	let profile = prepared.profile;
	let changes: ProfileChanges = {};
	if (prepared.stored) {
		if (imports.length) {
			const result = await store.applyToProfile(profile.id, imports, [], { source: 'profileWebhook' });
			profile = result.profile ?? profile;
			changes = result.changes;
		}
		// The snapshot is taken after response mapping, so values the API wrote back do not count as
		// changes that send the profile again.
		await store.setSentSnapshot(goalId, profile.id, config.filter.snapshot(profile));
	} else if (imports.length) {
		const outcome = applyImports(profile.properties, imports);
		profile = { ...profile, properties: outcome.properties };
		changes = outcome.changes;
	}
	return { profile, changes };
}
