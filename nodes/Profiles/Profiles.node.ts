import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type ILoadOptionsFunctions,
	type INodeExecutionData,
	type INodePropertyOptions,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { ProfileWebhookError } from '../../lib/errors';
import type { ProfileEngine, ReevaluationProgress } from '../../lib/profiles/engine';
import { conditionsFromFilter } from '../../lib/profiles/filterConditions';
import type { Conditions } from '../../lib/profiles/conditions';
import { upsertRecord, type UpsertValues } from '../../lib/profiles/upsertRecord';
import { DEFAULT_DOMAIN_GROUP, type Profile } from '../../lib/profiles/types';
import { splitList } from '../../lib/lists';
import { configurationFailure } from '../shared/configurationError';
import { profileEngineFor } from '../shared/profileStore';
import { loadSegmentOptions } from '../shared/segmentOptions';
import { profilesProperties } from './description';

type Context = IExecuteFunctions;


/** Profiles found by identifier that erase and export handle (every one holding the value). */
const MAX_MATCHES = 1_000;

/** What kind of refusal an engine error is, before its message. */
const SUMMARY: Partial<Record<ProfileWebhookError['code'], string>> = {
	VALIDATION_FAILED: 'Nothing was written',
	CONFIGURATION_INVALID: 'Invalid parameters',
	MISSING_IDENTIFIER: 'Invalid identifier',
	BAD_REQUEST: 'Invalid identifier',
	STORE_UNAVAILABLE: 'The profile store is unavailable',
};

/** An engine refusal as n8n shows it: the message, then one line per issue. */
function nodeError(context: Context, error: unknown, itemIndex: number): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	if (error instanceof ProfileWebhookError) {
		return new NodeOperationError(context.getNode(), `${SUMMARY[error.code] ?? 'Refused'}: ${error.message}`, {
			itemIndex,
			description: error.issues.length
				? error.issues.map((issue) => `${issue.target}: ${issue.message}`).join('\n')
				: `${error.code} (${error.status})`,
		});
	}
	return new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

/** The error item of "Continue (using error output)" / "Continue": code, message and issues. */
function errorJson(error: unknown): IDataObject {
	if (error instanceof ProfileWebhookError) {
		return {
			error: {
				code: error.code,
				message: error.message,
				...(error.issues.length ? { issues: error.issues as unknown as IDataObject[] } : {}),
			},
		};
	}
	return { error: { message: (error as Error)?.message ?? String(error) } };
}

const json = (value: unknown) => value as IDataObject;

/**
 * The conditions parameter as engine conditions. The left value is a property name: an expression
 * there would evaluate to the item's value (as n8n's drag-and-drop writes `{{ $json.email }}`), so it
 * is refused, named by condition.
 */
function readConditions(context: Context, itemIndex: number): Conditions {
	const raw = context.getNodeParameter('conditions', itemIndex, {}, { rawExpressions: true }) as IDataObject;
	const rows = Array.isArray(raw?.conditions) ? (raw.conditions as IDataObject[]) : [];
	rows.forEach((row, index) => {
		if (typeof row?.leftValue === 'string' && row.leftValue.startsWith('=')) {
			throw new NodeOperationError(
				context.getNode(),
				`Conditions: Condition ${index + 1}: the left value must be a property name typed as plain text, not an expression`,
				{
					itemIndex,
					description: `It is ${JSON.stringify(row.leftValue.slice(1))}. Write the name of the profile property, for example email.`,
				},
			);
		}
	});
	const filter = context.getNodeParameter('conditions', itemIndex, {}) as IDataObject;
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	return conditionsFromFilter({
		...filter,
		options: { caseSensitive: !options.ignoreCase },
	});
}

interface FoundProfile {
	profile?: Profile;
	ambiguous: boolean;
	/** What was looked for, for the output item. */
	lookup: IDataObject;
}

async function findOne(context: Context, engine: ProfileEngine, itemIndex: number): Promise<FoundProfile> {
	const findBy = context.getNodeParameter('findBy', itemIndex, 'identifier') as string;
	if (findBy === 'id') {
		const profileId = String(context.getNodeParameter('profileId', itemIndex, '')).trim();
		const includeTimeline = context.getNodeParameter('includeTimeline', itemIndex, false) as boolean;
		const profile = await engine.get(profileId, { timeline: includeTimeline });
		return { profile, ambiguous: false, lookup: { profileId } };
	}
	const { property, value, domainGroup } = identifierOf(context, itemIndex);
	const match = await engine.findByIdentifier(domainGroup, property, value);
	return { ...match, lookup: { identifier: { property, value }, domainGroup } };
}

function identifierOf(context: Context, itemIndex: number) {
	return {
		property: String(context.getNodeParameter('identifierProperty', itemIndex, '')).trim(),
		value: context.getNodeParameter('identifierValue', itemIndex, '') as unknown,
		domainGroup: String(context.getNodeParameter('domainGroup', itemIndex, DEFAULT_DOMAIN_GROUP)).trim() || DEFAULT_DOMAIN_GROUP,
	};
}

/** Every profile an erase or export is about: one by id, or each holding the identifier value. */
async function findEvery(context: Context, engine: ProfileEngine, itemIndex: number): Promise<{ ids: string[]; lookup: IDataObject }> {
	const findBy = context.getNodeParameter('findBy', itemIndex, 'identifier') as string;
	if (findBy === 'id') {
		const profileId = String(context.getNodeParameter('profileId', itemIndex, '')).trim();
		const profile = await engine.get(profileId);
		return { ids: profile ? [profile.id] : [], lookup: { profileId } };
	}
	const { property, value, domainGroup } = identifierOf(context, itemIndex);
	const profiles = await engine.findAllByIdentifier(domainGroup, property, value, MAX_MATCHES);
	return { ids: profiles.map((p) => p.id), lookup: { identifier: { property, value }, domainGroup } };
}

/**
 * Re-evaluation progress: in n8n's log, and in the browser console of a manual run; about every
 * tenth of the store, and at the end.
 */
function progressReporter(context: Context, segment: string) {
	let reported = 0;
	return (progress: ReevaluationProgress) => {
		const done = progress.scanned >= progress.total;
		if (!done && progress.scanned - reported < progress.total / 10) return;
		reported = progress.scanned;
		const message = `Segment "${segment}": ${progress.scanned} of ${progress.total} profiles evaluated (${progress.entered} entered, ${progress.left} left)`;
		context.logger.info(message);
		context.sendMessageToUI(message);
	};
}

async function runItem(context: Context, engine: ProfileEngine, itemIndex: number): Promise<IDataObject[]> {
	const resource = context.getNodeParameter('resource', itemIndex) as string;
	const operation = context.getNodeParameter('operation', itemIndex) as string;
	const key = `${resource}:${operation}`;
	switch (key) {
		case 'profile:get': {
			const found = await findOne(context, engine, itemIndex);
			if (found.profile && found.lookup.identifier && context.getNodeParameter('includeTimeline', itemIndex, false)) {
				found.profile = (await engine.get(found.profile.id, { timeline: true })) ?? found.profile;
			}
			return [
				{
					found: Boolean(found.profile),
					profileId: found.profile?.id ?? null,
					...found.lookup,
					...(found.ambiguous ? { ambiguous: true } : {}),
					profile: json(found.profile ?? null),
				},
			];
		}
		case 'profile:upsert': {
			const options = context.getNodeParameter('upsertOptions', itemIndex, {}) as IDataObject;
			const properties = context.getNodeParameter('properties', itemIndex, {}) as {
				property?: Array<{ property?: string; value?: unknown; mode?: string }>;
			};
			const events = context.getNodeParameter('timelineEvents', itemIndex, {}) as {
				event?: Array<{ eventType?: string; date?: unknown; eventId?: unknown; data?: unknown }>;
			};
			const values: UpsertValues = {
				identifierProperty: String(context.getNodeParameter('identifierProperty', itemIndex, '')),
				identifierValue: context.getNodeParameter('identifierValue', itemIndex, ''),
				mappings: (properties.property ?? []).map((p) => ({
					property: String(p.property ?? ''),
					value: p.value,
					mode: String(p.mode ?? 'set'),
				})),
				events: (events.event ?? []).map((e) => ({ eventType: String(e.eventType ?? ''), date: e.date, id: e.eventId, data: e.data })),
			};
			const record = upsertRecord(values);
			const domainGroup = String(options.domainGroup ?? '').trim() || DEFAULT_DOMAIN_GROUP;
			const result = await engine.applyByIdentifier({
				...record,
				domainGroup,
				create: options.createProfiles === undefined ? true : Boolean(options.createProfiles),
				...(options.legislation ? { legislation: String(options.legislation) } : {}),
				objectives: splitList(options.objectives),
				timeline: context.getNodeParameter('includeTimeline', itemIndex, false) as boolean,
				source: 'profiles',
			});
			return [
				{
					state: result.state,
					profileId: result.profile?.id ?? null,
					identifier: json(record.identifier),
					domainGroup,
					legislation: result.profile?.legislation ?? null,
					...(result.ambiguous ? { ambiguous: true } : {}),
					...(result.reason ? { reason: result.reason } : {}),
					changes: json(result.state === 'CONSENT_MISMATCH' ? {} : result.changes),
					profile: json(result.profile ?? null),
					timelineEvents: json(result.events),
					segmentsEntered: result.segmentsEntered,
					segmentsLeft: result.segmentsLeft,
				},
			];
		}
		case 'profile:search': {
			const conditions = readConditions(context, itemIndex);
			const returnAll = context.getNodeParameter('returnAll', itemIndex, false) as boolean;
			const limit = returnAll ? Infinity : Math.max(1, Math.floor(Number(context.getNodeParameter('limit', itemIndex, 50))));
			const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
			const domainGroup = String(options.domainGroup ?? '').trim() || undefined;
			const out: IDataObject[] = [];
			let cursor: string | undefined;
			do {
				const page = await engine.search({
					conditions,
					domainGroup,
					limit: Math.min(1_000, limit - out.length),
					cursor,
				});
				for (const profile of page.profiles) out.push(json(profile));
				cursor = page.nextCursor;
			} while (cursor && out.length < limit);
			return out;
		}
		case 'profile:erase': {
			const { ids, lookup } = await findEvery(context, engine, itemIndex);
			const erased: string[] = [];
			for (const id of ids) if (await engine.erase(id)) erased.push(id);
			return [{ erased: erased.length > 0, profileIds: erased, ...lookup }];
		}
		case 'profile:export': {
			const { ids, lookup } = await findEvery(context, engine, itemIndex);
			const exports: IDataObject[] = [];
			for (const id of ids) {
				const exported = await engine.export(id);
				if (exported) exports.push({ found: true, profileId: id, ...lookup, ...json(exported) });
			}
			return exports.length ? exports : [{ found: false, profileId: null, ...lookup }];
		}
		case 'consent:record': {
			const found = await findOne(context, engine, itemIndex);
			if (!found.profile) return [{ state: 'NOTFOUND', profileId: null, ...found.lookup }];
			const result = await engine.recordConsent(
				found.profile.id,
				{
					consented: splitList(context.getNodeParameter('consented', itemIndex, '')),
					refused: splitList(context.getNodeParameter('refused', itemIndex, '')),
				},
				{ source: 'profiles' },
			);
			return [
				{
					state: result.state,
					profileId: result.profile?.id ?? found.profile.id,
					...found.lookup,
					...(found.ambiguous ? { ambiguous: true } : {}),
					changes: json(result.changes),
					profile: json(result.profile ?? null),
				},
			];
		}
		case 'segment:list': {
			const segments = await engine.listSegments();
			return segments.map((segment) => json(segment));
		}
		case 'segment:define': {
			const name = String(context.getNodeParameter('segmentName', itemIndex, '')).trim();
			const description = String(context.getNodeParameter('segmentDescription', itemIndex, ''));
			const conditions = readConditions(context, itemIndex);
			const progress = await engine.defineSegment({ name, description, conditions }, progressReporter(context, name));
			return [{ segment: name, description, conditions: json(conditions), ...json(progress) }];
		}
		case 'segment:delete': {
			const name = String(context.getNodeParameter('segmentToDelete', itemIndex, '')).trim();
			let progress: ReevaluationProgress | undefined;
			const report = progressReporter(context, name);
			const deleted = await engine.deleteSegment(name, (p) => {
				progress = p;
				report(p);
			});
			return [{ segment: name, deleted, ...json(progress ?? {}) }];
		}
		default:
			throw new NodeOperationError(context.getNode(), `The operation "${operation}" is not known for "${resource}"`, {
				itemIndex,
			});
	}
}

export class Profiles implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Profiles',
		name: 'profiles',
		icon: { light: 'file:profiles.svg', dark: 'file:profiles.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Read, write, search, erase and export stored profiles; record consent; define segments',
		defaults: { name: 'Profiles' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'profileStoreApi', required: false }],
		properties: profilesProperties,
	};

	methods = {
		loadOptions: {
			async getDefinedSegments(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				return await loadSegmentOptions(this, { includeBuiltIn: false });
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		let engine: ProfileEngine;
		try {
			engine = await profileEngineFor(this);
		} catch (error) {
			// The embedded store in queue mode or multi-main, or unusable PostgreSQL settings.
			throw configurationFailure(this.getNode(), error, 'profile store');
		}
		const out: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const results = await runItem(this, engine, itemIndex);
				for (const result of results) out.push({ json: result, pairedItem: { item: itemIndex } });
			} catch (error) {
				if (!this.continueOnFail()) throw nodeError(this, error, itemIndex);
				out.push({ json: errorJson(error), pairedItem: { item: itemIndex } });
			}
		}
		return [out];
	}
}
