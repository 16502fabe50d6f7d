/**
 * The Profile Webhook's configuration compiled once per content (filters, request templates,
 * response mappings). Parameters are read per item; items with the same settings share one
 * compiled configuration. The per-item steps live in ./delivery.
 */
import { collectIssues as gather, ConfigurationError, type ValidationIssue } from '../errors';
import { memoizeByContent } from '../memoizeByContent';
import { compileFilters, type ProfileFilter, type TriggerOn } from './filters';
import { compileRequest, type CompiledRequest, type RequestConfig } from './request';
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
