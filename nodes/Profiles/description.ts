import type { INodeProperties } from 'n8n-workflow';

import { importModeField } from '../shared/descriptions';

const show = (resource: string, operation: string[]) => ({ show: { resource: [resource], operation } });

/** Segment and search conditions: n8n's own conditions editor; the left value is a property name. */
const conditionsField = (description: string): INodeProperties => ({
	displayName: 'Conditions',
	name: 'conditions',
	placeholder: 'Add Condition',
	type: 'filter',
	default: {},
	typeOptions: {
		filter: {
			caseSensitive: '={{!$parameter.options.ignoreCase}}',
			typeValidation: 'loose',
			version: 2,
		},
	},
	description,
});

/** How get, erase, export and consent find the profile. */
const findByFields = (resource: string, operations: string[]): INodeProperties[] => [
	{
		displayName: 'Find By',
		name: 'findBy',
		type: 'options',
		noDataExpression: true,
		displayOptions: show(resource, operations),
		options: [
			{ name: 'Profile ID', value: 'id', description: 'The profile ID (a UUID)' },
			{
				name: 'Identifier',
				value: 'identifier',
				description: 'An identifier property and its value, such as email',
			},
		],
		default: 'identifier',
	},
	{
		displayName: 'Profile ID',
		name: 'profileId',
		type: 'string',
		default: '',
		required: true,
		placeholder: '={{ $json.profileId }}',
		displayOptions: { show: { resource: [resource], operation: operations, findBy: ['id'] } },
		description: 'The ID of the profile',
	},
	{
		displayName: 'Identifier Property',
		name: 'identifierProperty',
		type: 'string',
		default: 'email',
		required: true,
		displayOptions: { show: { resource: [resource], operation: operations, findBy: ['identifier'] } },
		description: 'The profile property that identifies the profile',
	},
	{
		displayName: 'Identifier Value',
		name: 'identifierValue',
		type: 'string',
		default: '',
		required: true,
		placeholder: '={{ $json.email }}',
		displayOptions: { show: { resource: [resource], operation: operations, findBy: ['identifier'] } },
		description: 'The value of the identifier property',
	},
	{
		displayName: 'Domain Group',
		name: 'domainGroup',
		type: 'string',
		default: 'DEFAULT',
		displayOptions: { show: { resource: [resource], operation: operations, findBy: ['identifier'] } },
		description: 'The domain group the profile belongs to',
	},
];

export const profilesProperties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Consent', value: 'consent' },
			{ name: 'Profile', value: 'profile' },
			{ name: 'Segment', value: 'segment' },
		],
		default: 'profile',
	},

	// --- Profile -------------------------------------------------------------------------
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['profile'] } },
		options: [
			{
				name: 'Create or Update',
				value: 'upsert',
				description: 'Create a new record, or update the current one if it already exists (upsert)',
				action: 'Create or update a profile',
			},
			{
				name: 'Erase',
				value: 'erase',
				description:
					'Erase a profile and everything stored about it (right to be forgotten)',
				action: 'Erase a profile',
			},
			{
				name: 'Export',
				value: 'export',
				description: 'Export everything stored about a profile (data-access request)',
				action: 'Export a profile',
			},
			{ name: 'Get', value: 'get', description: 'Get a profile', action: 'Get a profile' },
			{
				name: 'Search',
				value: 'search',
				description: 'Search profiles by conditions on their properties',
				action: 'Search profiles',
			},
		],
		default: 'get',
	},
	...findByFields('profile', ['get', 'erase', 'export']),
	{
		displayName: 'Include Timeline',
		name: 'includeTimeline',
		type: 'boolean',
		default: false,
		displayOptions: show('profile', ['get', 'upsert']),
		description: 'Whether to include the profile timeline (its last 250 events)',
	},

	// upsert
	{
		displayName: 'Identifier Property',
		name: 'identifierProperty',
		type: 'string',
		default: 'email',
		required: true,
		displayOptions: show('profile', ['upsert']),
		description: 'The profile property that identifies the profile',
	},
	{
		displayName: 'Identifier Value',
		name: 'identifierValue',
		type: 'string',
		default: '',
		required: true,
		placeholder: '={{ $json.email }}',
		displayOptions: show('profile', ['upsert']),
		description: 'The value of the identifier property',
	},
	{
		displayName: 'Properties',
		name: 'properties',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: {},
		placeholder: 'Add Property',
		displayOptions: show('profile', ['upsert']),
		description:
			'Values to write. A value that is empty, null or missing writes nothing; a list writes each of its values.',
		options: [
			{
				displayName: 'Property',
				name: 'property',
				values: [
					{
						displayName: 'Property',
						name: 'property',
						type: 'string',
						default: '',
						placeholder: 'firstname',
						description: 'The profile property that receives the values',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: '={{ $json.firstName }}',
						description: 'The value (an expression may give a list of values)',
					},
					{ ...importModeField },
				],
			},
		],
	},
	{
		displayName: 'Timeline Events',
		name: 'timelineEvents',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Timeline Event',
		displayOptions: show('profile', ['upsert']),
		description: 'Events to record on the profile timeline',
		options: [
			{
				displayName: 'Event',
				name: 'event',
				values: [
					{
						displayName: 'Event Type',
						name: 'eventType',
						type: 'string',
						default: '',
						placeholder: 'order_placed',
						description: 'The type of the timeline event',
					},
					{
						displayName: 'Date',
						name: 'date',
						type: 'string',
						default: '',
						placeholder: '={{ $json.orderedAt }}',
						description:
							'ISO 8601, or Unix seconds or milliseconds. Empty means now.',
					},
					{
						displayName: 'Event ID',
						name: 'eventId',
						type: 'string',
						default: '',
						description:
							'An event with a known ID replaces the stored one; empty means a new ID',
					},
					{
						displayName: 'Data',
						name: 'data',
						type: 'json',
						default: '{}',
						description: 'The event data, a JSON object',
					},
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'upsertOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show('profile', ['upsert']),
		options: [
			{
				displayName: 'Create Profile',
				name: 'createProfiles',
				type: 'boolean',
				default: true,
				description: 'Whether to create a profile when no profile has the identifier value',
			},
			{
				displayName: 'Domain Group',
				name: 'domainGroup',
				type: 'string',
				default: 'DEFAULT',
				description: 'The domain group the profile belongs to',
			},
			{
				displayName: 'Legislation',
				name: 'legislation',
				type: 'options',
				options: [
					{ name: 'GDPR', value: 'GDPR' },
					{ name: 'None', value: 'NONE' },
				],
				default: 'NONE',
				description:
					'Set on a new profile; GDPR tightens a stored NONE, and a stored GDPR is never loosened',
			},
			{
				displayName: 'Objectives',
				name: 'objectives',
				type: 'string',
				default: '',
				placeholder: 'marketing',
				description:
					'Comma-separated consent objectives the write needs; without consent the profile is left as it is (CONSENT_MISMATCH)',
			},
		],
	},

	// search
	{
		...conditionsField(
			'Conditions on profile properties. The left value is the property name, typed as plain text (for example email); leave the conditions empty to list every profile.',
		),
		displayOptions: show('profile', ['search']),
	},
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		displayOptions: show('profile', ['search']),
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		displayOptions: { show: { resource: ['profile'], operation: ['search'], returnAll: [false] } },
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show('profile', ['search']),
		options: [
			{
				displayName: 'Domain Group',
				name: 'domainGroup',
				type: 'string',
				default: '',
				description: 'Only profiles of this domain group. Empty means every domain group.',
			},
			{
				displayName: 'Ignore Case',
				name: 'ignoreCase',
				type: 'boolean',
				default: false,
				description: 'Whether to ignore letter case when comparing text',
			},
		],
	},

	// --- Consent -------------------------------------------------------------------------
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['consent'] } },
		options: [
			{
				name: 'Record',
				value: 'record',
				description: 'Record consent to, or refusal of, objectives for a profile',
				action: 'Record consent for a profile',
			},
		],
		default: 'record',
	},
	...findByFields('consent', ['record']),
	{
		displayName: 'Consented Objectives',
		name: 'consented',
		type: 'string',
		default: '',
		placeholder: 'marketing, analytics',
		displayOptions: show('consent', ['record']),
		description:
			'Comma-separated objectives the person consents to (removed from the refused ones)',
	},
	{
		displayName: 'Refused Objectives',
		name: 'refused',
		type: 'string',
		default: '',
		placeholder: 'profiling',
		displayOptions: show('consent', ['record']),
		description:
			'Comma-separated objectives the person refuses (removed from the consented ones)',
	},

	// --- Segment -------------------------------------------------------------------------
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['segment'] } },
		options: [
			{
				name: 'Define',
				value: 'define',
				description:
					'Create or replace a segment definition; every stored profile is re-evaluated',
				action: 'Define a segment',
			},
			{
				name: 'Delete',
				value: 'delete',
				description: 'Delete a segment definition; profiles leave it',
				action: 'Delete a segment',
			},
			{ name: 'List', value: 'list', description: 'List the defined segments', action: 'List segments' },
		],
		default: 'list',
	},
	{
		displayName: 'Name',
		name: 'segmentName',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'Newsletter subscribers',
		displayOptions: show('segment', ['define']),
		description: 'The segment name, as profiles carry it in their segments property',
	},
	{
		displayName: 'Segment Name or ID',
		name: 'segmentToDelete',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getDefinedSegments' },
		default: '',
		required: true,
		displayOptions: show('segment', ['delete']),
		description:
			'The segment to delete. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'Description',
		name: 'segmentDescription',
		type: 'string',
		default: '',
		displayOptions: show('segment', ['define']),
		description: 'What the segment is for',
	},
	{
		...conditionsField(
			'Who is in the segment. The left value is the property name, typed as plain text (for example country); no condition means every profile.',
		),
		displayOptions: show('segment', ['define']),
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show('segment', ['define']),
		options: [
			{
				displayName: 'Ignore Case',
				name: 'ignoreCase',
				type: 'boolean',
				default: false,
				description: 'Whether to ignore letter case when comparing text',
			},
		],
	},
];
