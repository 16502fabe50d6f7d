/**
 * One profile write described by plain values (the Profiles node's upsert: values an n8n item gave),
 * turned into the same record the Profile Webhook Trigger gives the engine. The rules are the
 * trigger's: values become property values as a mapped field's do (lists flattened; null, '' and
 * missing write nothing; objects as JSON text), modes are parsed by the same function, event dates
 * are read the same way (ISO 8601, or Unix seconds or milliseconds). The engine then validates
 * and writes exactly as for a request.
 */
import { ConfigurationError, ValidationError, type ValidationIssue } from '../errors';
import { toPropertyValues } from '../mapping/fieldSelector';
import type { RecordInput } from './engine';
import { parseImportMode } from './importMode';
import { parseEventDate } from './timelineEvents';
import type { PropertyImport, TimelineEventInput } from './types';

export interface UpsertValues {
	identifierProperty: string;
	identifierValue: unknown;
	mappings: Array<{ property: string; value: unknown; mode: string }>;
	events: Array<{ eventType: string; date?: unknown; id?: unknown; data?: unknown }>;
}

const blank = (value: unknown) => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/**
 * The record for the engine. Configuration problems (an empty property, an unknown mode) throw one
 * ConfigurationError listing each; problems with the values (a date that is not a date, event data
 * that is not an object) one ValidationError (422), as the trigger answers.
 */
export function upsertRecord(values: UpsertValues): RecordInput {
	const config: ValidationIssue[] = [];
	const invalid: ValidationIssue[] = [];
	const identifierProperty = String(values.identifierProperty ?? '').trim();
	if (!identifierProperty) config.push({ target: 'Identifier Property', message: 'must not be empty' });

	const imports: PropertyImport[] = [];
	values.mappings.forEach((mapping, index) => {
		const target = `Property ${index + 1}`;
		const property = String(mapping.property ?? '').trim();
		if (!property) {
			config.push({ target, message: 'the property name is empty' });
			return;
		}
		let mode;
		try {
			mode = parseImportMode(mapping.mode ?? 'set');
		} catch (error) {
			if (!(error instanceof ConfigurationError)) throw error;
			config.push(...error.issues.map((issue) => ({ ...issue, target: `${target}: ${issue.target}` })));
			return;
		}
		const propertyValues = toPropertyValues([mapping.value]);
		if (propertyValues.length) imports.push({ property, mode, values: propertyValues });
	});

	const events: TimelineEventInput[] = [];
	values.events.forEach((event, index) => {
		const target = `Timeline Event ${index + 1}`;
		const eventType = String(event.eventType ?? '').trim();
		if (!eventType) {
			config.push({ target, message: 'the event type is empty' });
			return;
		}
		let date: string | undefined;
		if (!blank(event.date)) {
			const raw = event.date;
			date =
				typeof raw === 'string' || typeof raw === 'number' ? parseEventDate(raw) : raw instanceof Date ? raw.toISOString() : undefined;
			if (!date) invalid.push({ target, message: `the date ${JSON.stringify(raw)} is not a date` });
		}
		let data: Record<string, unknown> = {};
		if (!blank(event.data)) {
			let raw = event.data;
			if (typeof raw === 'string') {
				try {
					raw = JSON.parse(raw);
				} catch {
					invalid.push({ target, message: 'the data is not JSON' });
					return;
				}
			}
			if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
				invalid.push({ target, message: 'the data must be a JSON object' });
				return;
			}
			data = raw as Record<string, unknown>;
		}
		events.push({
			eventType,
			...(date ? { date } : {}),
			data,
			...(!blank(event.id) ? { id: String(event.id) } : {}),
		});
	});

	if (config.length) throw new ConfigurationError(config);
	if (invalid.length) throw new ValidationError(invalid);
	return { identifier: { property: identifierProperty, value: values.identifierValue }, imports, events };
}
