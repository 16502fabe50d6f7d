import type { EditorType, INodeProperties } from 'n8n-workflow';

import { importModeField } from '../shared/descriptions';

/**
 * `editor: ''` keeps a typed or pasted `{{...}}` a Mustache template in the n8n editor (Fixed
 * mode) instead of turning the field into an n8n expression: the editor converts only fields whose
 * `typeOptions.editor` is undefined, and a falsy editor still renders the plain input. Measured in
 * n8n 2.41.1 (test/e2e/editor-templates.test.mjs keeps checking it in a real editor).
 */
const TEMPLATE_EDITOR = { editor: '' as unknown as EditorType };

export const webhookProperties: INodeProperties[] = [
	{
		displayName: 'Profile Source',
		name: 'profileSource',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Input Item',
				value: 'input',
				description:
					'A Profile Webhook Trigger output, a profile, or any item (each field is a property, e.g. {"email": "a@b.c"})',
			},
			{
				name: 'Look Up in Store',
				value: 'lookup',
				description: 'Find the profile by an identifier property and value',
			},
		],
		default: 'input',
		description: 'Where the profile of each item comes from',
	},
	{
		displayName: 'Lookup Property',
		name: 'lookupProperty',
		type: 'string',
		default: 'email',
		required: true,
		displayOptions: { show: { profileSource: ['lookup'] } },
		description: 'The profile property to look the profile up by',
	},
	{
		displayName: 'Lookup Value',
		name: 'lookupValue',
		type: 'string',
		default: '',
		required: true,
		placeholder: '={{ $json.email }}',
		displayOptions: { show: { profileSource: ['lookup'] } },
		description: 'The value to look the profile up by',
	},
	{
		displayName: 'Domain Group',
		name: 'domainGroup',
		type: 'string',
		default: 'DEFAULT',
		displayOptions: { show: { profileSource: ['lookup'] } },
		description: 'The domain group the profile belongs to',
	},
	{
		displayName: 'Segment Names or IDs',
		name: 'segments',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getSegments' },
		default: [],
		description:
			'Segments defined with the Profiles node; a profile is sent when it is in at least one. None (or All Visitors) means every profile. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'Objectives',
		name: 'objectives',
		type: 'string',
		default: '',
		placeholder: 'marketing',
		description:
			'Comma-separated consent objectives. GDPR profiles are sent only with consent to one of them; others unless they refused one.',
	},
	{
		displayName: 'Trigger On',
		name: 'triggerOn',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Always', value: 'always', description: 'Every profile that passes the filters' },
			{
				name: 'Event',
				value: 'event',
				description: 'The item carries a new timeline event of a selected type',
			},
			{
				name: 'Property Change',
				value: 'propertyChange',
				description: 'Selected properties changed since this node last sent the profile',
			},
		],
		default: 'propertyChange',
		description: 'When a profile is sent',
	},
	{
		displayName: 'Trigger Properties',
		name: 'triggerProperties',
		type: 'string',
		default: '',
		placeholder: 'email, firstname',
		displayOptions: { show: { triggerOn: ['propertyChange'] } },
		description: 'Comma-separated properties whose change sends the profile. Empty means any property.',
	},
	{
		displayName: 'Trigger Events',
		name: 'triggerEvents',
		type: 'string',
		default: '',
		placeholder: 'order_placed',
		displayOptions: { show: { triggerOn: ['event'] } },
		description: 'Comma-separated event types that send the profile. Empty means any event.',
	},
	{
		displayName: 'Method',
		name: 'method',
		type: 'options',
		options: [
			{ name: 'DELETE', value: 'DELETE' },
			{ name: 'GET', value: 'GET' },
			{ name: 'PATCH', value: 'PATCH' },
			{ name: 'POST', value: 'POST' },
			{ name: 'PUT', value: 'PUT' },
		],
		default: 'POST',
		description: 'The HTTP method',
	},
	{
		displayName:
			'URL, header values and body are Mustache templates over the profile, such as <code>{{email.0}}</code>: type them as they are, they stay templates. Switch a field to Expression only to compute it with n8n (<code>{{ $json.x }}</code>); the expression\'s result is then used as the template.',
		name: 'templateNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'URL',
		name: 'url',
		type: 'string',
		typeOptions: { ...TEMPLATE_EDITOR },
		default: '',
		required: true,
		placeholder: 'https://api.example.com/contacts/{{email.0}}',
		description:
			'A Mustache template over the profile. Values are percent-encoded and can never change the scheme, host or port.',
	},
	{
		displayName: 'Headers',
		name: 'headers',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Header',
		options: [
			{
				displayName: 'Header',
				name: 'header',
				values: [
					{ displayName: 'Name', name: 'name', type: 'string', default: '' },
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						typeOptions: { ...TEMPLATE_EDITOR },
						default: '',
						description: 'A Mustache template; values with line breaks are refused',
					},
				],
			},
		],
	},
	{
		displayName: 'Body Format',
		name: 'bodyFormat',
		type: 'options',
		options: [
			{ name: 'Form', value: 'form', description: 'Sent as application/x-www-form-urlencoded' },
			{ name: 'JSON', value: 'json', description: 'Values are escaped as JSON strings' },
			{ name: 'Text', value: 'text', description: 'Values are inserted as they are' },
		],
		default: 'json',
		displayOptions: { hide: { method: ['GET'] } },
		description: 'How the body template is escaped and sent',
	},
	{
		displayName: 'Body',
		name: 'body',
		type: 'string',
		typeOptions: { rows: 6, ...TEMPLATE_EDITOR },
		default: '',
		placeholder: '{ "email": "{{email.0}}", "name": "{{firstname.0}}" }',
		displayOptions: { hide: { method: ['GET'] } },
		description:
			'A Mustache template over the profile. A JSON body must render to valid JSON or nothing is sent.',
	},
	{
		displayName: 'Authentication',
		name: 'authentication',
		type: 'options',
		options: [
			{ name: 'API Key', value: 'apiKey' },
			{ name: 'None', value: 'none' },
			{ name: 'OAuth2 Authorization Code', value: 'oAuth2AuthorizationCode' },
			{ name: 'OAuth2 Client Credentials', value: 'oAuth2ClientCredentials' },
			{ name: 'OAuth2 Refresh Token', value: 'oAuth2RefreshToken' },
		],
		default: 'none',
		description: 'How the request proves who sends it',
	},
	{
		displayName:
			'A manual run (Execute step or Execute workflow in the editor) sends the requests and shows request and response, but marks nothing: no "last sent" snapshot is kept and response mappings are not written to the store, so production runs still send these profiles.',
		name: 'manualRunNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Response Mappings',
		name: 'responseMappings',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Response Mapping',
		description: 'Values from the JSON answer stored in the profile',
		options: [
			{
				displayName: 'Mapping',
				name: 'mapping',
				values: [
					{
						displayName: 'Path',
						name: 'path',
						type: 'string',
						default: '',
						placeholder: '$.contact.number',
						description: 'A JsonPath into the JSON answer',
					},
					{
						displayName: 'Property',
						name: 'property',
						type: 'string',
						default: '',
						placeholder: 'crm_id',
						description: 'The profile property that receives the values',
					},
					{ ...importModeField },
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Concurrency',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 5,
				description: 'How many requests may be in flight at once',
			},
			{
				displayName: 'Identifier Property (Not in Store)',
				name: 'identifierProperty',
				type: 'string',
				default: 'email',
				description:
					'For profiles not in the store (plain items from other nodes): the property whose first value identifies the profile, so Trigger On = Property Change remembers what was sent for it',
			},
			{
				displayName: 'Include Request',
				name: 'includeRequest',
				type: 'boolean',
				default: false,
				description:
					'Whether to add the request as sent (secrets removed) to each output item. Manual runs always include it.',
			},
			{
				displayName: 'Retries',
				name: 'retries',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 3,
				description:
					'How often to retry network errors, 429 and 5xx answers, with exponential backoff and Retry-After',
			},
			{
				displayName: 'Timeout (Ms)',
				name: 'timeout',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 10000,
				description: 'How long to wait for an answer, per attempt',
			},
		],
	},
];
