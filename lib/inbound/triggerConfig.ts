/**
 * The Profile Webhook Trigger's configuration, compiled once: JsonPaths validated and parsed,
 * the allowlist turned into ranges, import modes checked. Requests then only evaluate.
 */
import { splitList } from '../lists';
import { collectIssues, ConfigurationError, type ValidationIssue } from '../errors';
import { memoizeByContent } from '../memoizeByContent';
import { compileFieldSelector, type CompiledFieldSelector } from '../mapping/fieldSelector';
import { compileRecordSelector, type CompiledRecordSelector } from '../mapping/records';
import { parseImportMode } from '../profiles/applyImport';
import type { ImportMode } from '../profiles/types';
import { compileIdempotency, type CompiledIdempotency } from './idempotency';
import { compileAllowlist, type CompiledAllowlist } from './ipAllowlist';
import { compileSignatureRule, type SignatureRule } from './signatures';

export type TriggerAuthentication = 'apiKey' | 'oAuth2' | 'none';

/** The node's parameters as plain values (what the n8n adapter reads). */
export interface TriggerSettings {
	authentication: TriggerAuthentication;
	identifierProperty: string;
	createProfiles: boolean;
	mappings: Array<{ field: string; property: string; mode: string }>;
	timelineEvents: Array<{
		eventType: string;
		dateField?: string;
		idField?: string;
		dataFields?: string;
	}>;
	ipAllowlist?: string;
	allowApiKeyInUrl?: boolean;
	allowCreateFromUrl?: boolean;
	objectives?: string;
	maxBodySizeKb?: number;
	emitUnmatched?: boolean;
	identifierField?: string;
	recordsPath?: string;
	/** `none` (default) or a signature scheme; the secrets come from the signature credential. */
	signature?: string;
	signatureToleranceSeconds?: number;
	/** A header name or a JsonPath (starting with $) holding the event id. */
	idempotencyKey?: string;
	idempotencyWindowSeconds?: number;
}

export interface CompiledMapping {
	selector: CompiledFieldSelector;
	property: string;
	mode: ImportMode;
}

export interface CompiledTimelineEvent {
	eventType: string;
	date?: CompiledFieldSelector;
	id?: CompiledFieldSelector;
	data: Array<{ key: string; selector: CompiledFieldSelector }>;
}

export interface CompiledTriggerConfig {
	settings: TriggerSettings;
	authentication: TriggerAuthentication;
	identifierProperty: string;
	identifierField?: CompiledFieldSelector;
	createProfiles: boolean;
	allowCreateFromUrl: boolean;
	allowApiKeyInUrl: boolean;
	mappings: CompiledMapping[];
	timelineEvents: CompiledTimelineEvent[];
	allowlist: CompiledAllowlist;
	objectives: string[];
	maxBodySize: number;
	emitUnmatched: boolean;
	records?: CompiledRecordSelector;
	/** Set when requests must be signed (checked before the body is read). */
	signature?: SignatureRule;
	/** Set when repeated deliveries of an event are answered from the first one. */
	idempotency?: Pick<CompiledIdempotency, 'eventId' | 'windowMs'>;
}

export { splitList };

/** The key an event data field is stored under: the last name segment of its field. */
export function dataKeyFor(field: string): string {
	const names = field.match(/[A-Za-z0-9_-]+/g);
	return names?.[names.length - 1] ?? field;
}

/** Compiles the settings; every problem is collected and reported in one ConfigurationError. */
export function compileTriggerConfig(settings: TriggerSettings): CompiledTriggerConfig {
	const issues: ValidationIssue[] = [];
	const identifierProperty = settings.identifierProperty.trim();
	if (!identifierProperty) {
		issues.push({ target: 'Identifier Property', message: 'must not be empty' });
	}
	if (!['apiKey', 'oAuth2', 'none'].includes(settings.authentication)) {
		issues.push({ target: 'Authentication', message: `${JSON.stringify(settings.authentication)} is not an authentication` });
	}

	const mappings: CompiledMapping[] = [];
	settings.mappings.forEach((mapping, index) => {
		const target = `Mapping ${index + 1}`;
		if (!mapping.field.trim()) issues.push({ target, message: 'the field is empty' });
		if (!mapping.property.trim()) issues.push({ target, message: 'the property is empty' });
		if (!mapping.field.trim() || !mapping.property.trim()) return;
		const selector = collectIssues(issues, () => compileFieldSelector(mapping.field.trim()), target);
		const mode = collectIssues(issues, () => parseImportMode(mapping.mode), target);
		if (selector && mode) mappings.push({ selector, property: mapping.property.trim(), mode });
	});

	const timelineEvents: CompiledTimelineEvent[] = [];
	settings.timelineEvents.forEach((event, index) => {
		const target = `Timeline Event ${index + 1}`;
		if (!event.eventType.trim()) {
			issues.push({ target, message: 'the event type is empty' });
			return;
		}
		const optional = (field: string | undefined) =>
			field?.trim() ? collectIssues(issues, () => compileFieldSelector(field.trim()), target) : undefined;
		const data = splitList(event.dataFields).flatMap((field) => {
			const selector = collectIssues(issues, () => compileFieldSelector(field), target);
			return selector ? [{ key: dataKeyFor(field), selector }] : [];
		});
		timelineEvents.push({
			eventType: event.eventType.trim(),
			date: optional(event.dateField),
			id: optional(event.idField),
			data,
		});
	});

	const allowlist = collectIssues(
		issues,
		() => compileAllowlist(settings.ipAllowlist ?? ''),
		'IP Allowlist',
	);
	const identifierField = settings.identifierField?.trim()
		? collectIssues(
				issues,
				() => compileFieldSelector(settings.identifierField!.trim()),
				'Identifier Field',
			)
		: undefined;
	const records = settings.recordsPath?.trim()
		? collectIssues(issues, () => compileRecordSelector(settings.recordsPath!.trim()), 'Records Path')
		: undefined;
	const maxBodySizeKb = settings.maxBodySizeKb ?? 1024;
	if (!(maxBodySizeKb > 0)) {
		issues.push({ target: 'Max Body Size (KB)', message: `${maxBodySizeKb} is not a positive size` });
	}

	const signature = compileSignatureRule(settings.signature, settings.signatureToleranceSeconds, issues);
	const idempotency = compileIdempotency(settings.idempotencyKey, settings.idempotencyWindowSeconds, issues);

	if (issues.length) throw new ConfigurationError(issues);
	return {
		settings,
		authentication: settings.authentication,
		identifierProperty,
		identifierField,
		createProfiles: settings.createProfiles,
		allowCreateFromUrl: settings.allowCreateFromUrl ?? false,
		allowApiKeyInUrl: settings.allowApiKeyInUrl ?? false,
		mappings,
		timelineEvents,
		allowlist: allowlist!,
		objectives: splitList(settings.objectives),
		maxBodySize: Math.round(maxBodySizeKb * 1024),
		emitUnmatched: settings.emitUnmatched ?? false,
		records,
		...(signature ? { signature } : {}),
		...(idempotency ? { idempotency } : {}),
	};
}

/** compileTriggerConfig, memoised by the settings' content (one compile per configuration). */
export const getTriggerConfig = memoizeByContent(compileTriggerConfig, 200);
