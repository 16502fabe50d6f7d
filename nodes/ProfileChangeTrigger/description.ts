import type { INodeProperties } from 'n8n-workflow';

export const changeTriggerProperties: INodeProperties[] = [
	{
		displayName:
			'Starts for changes committed to the profile store by any writer: a Profile Webhook Trigger, the Profiles node, a Profile Webhook\'s response mapping, another workflow. On first activation it starts at the current end of the change feed; after that it resumes where it stopped, so changes made while the workflow was inactive or n8n was down are delivered too.',
		name: 'feedNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Trigger On',
		name: 'triggerOn',
		type: 'multiOptions',
		options: [
			{
				name: 'Event',
				value: 'event',
				description: 'A timeline event of one of the event types was written',
			},
			{
				name: 'Property Change',
				value: 'propertyChange',
				description: 'The values of one of the properties changed',
			},
			{
				name: 'Segment Entered',
				value: 'segmentEntered',
				description: 'The profile entered one of the segments',
			},
			{
				name: 'Segment Left',
				value: 'segmentLeft',
				description: 'The profile left one of the segments',
			},
		],
		default: ['propertyChange'],
		required: true,
		description: 'Which changes start the workflow; a change that matches any selected kind counts',
	},
	{
		displayName: 'Properties',
		name: 'properties',
		type: 'string',
		default: '',
		placeholder: 'email, tier',
		displayOptions: { show: { triggerOn: ['propertyChange'] } },
		description:
			'Comma-separated property IDs whose values must have changed (before and after differ). Empty: any property.',
	},
	{
		displayName: 'Event Types',
		name: 'eventTypes',
		type: 'string',
		default: '',
		placeholder: 'order, page_view',
		displayOptions: { show: { triggerOn: ['event'] } },
		description: 'Comma-separated timeline event types. Empty: any event.',
	},
	{
		displayName: 'Segments Entered',
		name: 'segmentsEntered',
		type: 'string',
		default: '',
		placeholder: 'customers',
		displayOptions: { show: { triggerOn: ['segmentEntered'] } },
		description: 'Comma-separated segment names. Empty: any segment.',
	},
	{
		displayName: 'Segments Left',
		name: 'segmentsLeft',
		type: 'string',
		default: '',
		placeholder: 'customers',
		displayOptions: { show: { triggerOn: ['segmentLeft'] } },
		description: 'Comma-separated segment names. Empty: any segment.',
	},
	{
		displayName: 'Domain Groups',
		name: 'domainGroups',
		type: 'string',
		default: '',
		placeholder: 'DEFAULT',
		description: 'Comma-separated domain groups the profile must be in. Empty: every domain group.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Ignore Changes From',
				name: 'ignoreSources',
				type: 'string',
				default: '',
				placeholder: 'profileWebhook',
				description:
					'Comma-separated writers whose changes are ignored: profileWebhook (response mappings), profiles (the Profiles node), trigger (any Profile Webhook Trigger) or trigger:&lt;workflow ID&gt;, segment, consent, import',
			},
			{
				displayName: 'Include Timeline',
				name: 'includeTimeline',
				type: 'boolean',
				default: false,
				description: 'Whether the output profile carries its timeline (up to 250 events)',
			},
			{
				displayName: 'Poll Interval (Ms)',
				name: 'pollInterval',
				type: 'number',
				typeOptions: { minValue: 50, maxValue: 60000 },
				default: 250,
				description:
					'How often the change feed is read while nothing happens. The time from a commit to the execution start is about half of it on average.',
			},
		],
	},
];
