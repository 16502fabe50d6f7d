import type { INodeProperties } from 'n8n-workflow';

import { importModeField } from '../shared/descriptions';


export const triggerProperties: INodeProperties[] = [
	{
		// Version 1 defaulted to "profiles". n8n stores only parameters that differ from their
		// default, so workflows saved with that default keep it through this versioned copy.
		displayName: 'Path',
		name: 'path',
		type: 'string',
		default: 'profiles',
		displayOptions: { show: { '@version': [1] } },
		description:
			'The path of the webhook URL. External platforms call <code>/webhook/&lt;path&gt;?property=email&amp;email=…</code>.',
	},
	{
		displayName: 'Path',
		name: 'path',
		type: 'string',
		// Empty: n8n serves the webhook at the node's own webhook id (a UUID the editor gives each new
		// node), so two triggers never collide, as with n8n's Webhook node.
		default: '',
		displayOptions: { show: { '@version': [2] } },
		placeholder: 'profiles',
		description:
			'The path of the webhook URL; empty uses a unique ID generated for this node. External platforms call <code>/webhook/&lt;path&gt;?property=email&amp;email=…</code>.',
	},
	{
		displayName: 'Authentication',
		name: 'authentication',
		type: 'options',
		options: [
			{
				name: 'API Key',
				value: 'apiKey',
				description: 'A shared key in a header (or, less safely, the URL)',
			},
			{
				name: 'None',
				value: 'none',
				description: 'Anyone who knows the URL can change profiles: unsafe',
			},
			{
				name: 'OAuth2 Bearer Token',
				value: 'oAuth2',
				description: 'An OAuth 2.0 access token in the Authorization header',
			},
		],
		default: 'apiKey',
		description: 'How callers prove who they are',
	},
	{
		displayName:
			'Without authentication anyone who learns this URL can change profiles. Use an API key or an allowlist of addresses.',
		name: 'noAuthNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { authentication: ['none'] } },
	},
	{
		displayName:
			'Callers send "Authorization: Bearer &lt;token&gt;"; the credential says how tokens are checked. When it lists registered applications, they fetch tokens (client_credentials) at this webhook\'s URL followed by <code>/oauth/token</code>.',
		name: 'oAuth2Notice',
		type: 'notice',
		default: '',
		displayOptions: { show: { authentication: ['oAuth2'] } },
	},
	{
		displayName: 'Signature',
		name: 'signature',
		type: 'options',
		options: [
			{
				name: 'GitHub-Style (X-Hub-Signature-256)',
				value: 'github',
				description: 'HMAC-SHA256 of the body as sha256=&lt;hex&gt;; no timestamp, so pair it with idempotency',
			},
			{
				name: 'None',
				value: 'none',
				description: 'Requests are not signed',
			},
			{
				name: 'Standard Webhooks (Webhook-Signature)',
				value: 'standardWebhooks',
				description: 'Headers webhook-ID, webhook-timestamp and webhook-signature (standardwebhooks.com)',
			},
			{
				name: 'Stripe-Style (Stripe-Signature)',
				value: 'stripe',
				description: 'Stripe-Signature: t=&lt;timestamp&gt;,v1=&lt;hex&gt;',
			},
		],
		default: 'none',
		description:
			'Whether requests must carry an HMAC signature over the raw body, checked with the Profile Webhook Signature credential next to the authentication above. A missing, wrong or stale signature is answered 401 and nothing is written.',
	},
	{
		displayName: 'Identifier Property',
		name: 'identifierProperty',
		type: 'string',
		default: 'email',
		required: true,
		placeholder: 'email',
		description:
			'The profile property that identifies the profile, as in <code>?property=email&amp;email=a@b.c</code>',
	},
	{
		displayName: 'Create Profiles',
		name: 'createProfiles',
		type: 'boolean',
		default: false,
		description: 'Whether to create a profile when no profile has the identifier value',
	},
	{
		displayName: 'Mappings',
		name: 'mappings',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: {},
		placeholder: 'Add Mapping',
		description: 'Which request fields go into which profile properties',
		options: [
			{
				displayName: 'Mapping',
				name: 'mapping',
				values: [
					{
						displayName: 'Field',
						name: 'field',
						type: 'string',
						default: '',
						placeholder: '$.firstName or data[merges][FNAME]',
						description:
							'A JsonPath for JSON data (starts with $) or the exact name of a form or query parameter',
					},
					{
						displayName: 'Property',
						name: 'property',
						type: 'string',
						default: '',
						placeholder: 'firstname',
						description: 'The profile property that receives the values',
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
		description: 'Events to record on the profile timeline for each request',
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
						placeholder: 'email_opened',
						description: 'The type of the timeline event',
					},
					{
						displayName: 'Date Field',
						name: 'dateField',
						type: 'string',
						default: '',
						placeholder: '$.timestamp',
						description:
							'Where the event date comes from (ISO 8601 or Unix seconds or milliseconds). Empty means the time the request arrived.',
					},
					{
						displayName: 'ID Field',
						name: 'idField',
						type: 'string',
						default: '',
						placeholder: '$.sg_event_id',
						description:
							'Where the event ID comes from. An event with a known ID replaces the stored one; empty means a new ID.',
					},
					{
						displayName: 'Data Fields',
						name: 'dataFields',
						type: 'string',
						default: '',
						placeholder: '$.campaign, $.url',
						description:
							'Comma-separated fields stored as the event data, each under its last name segment. When none of them is in the request, no event is written.',
					},
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
				displayName: 'Allow API Key in URL',
				name: 'allowApiKeyInUrl',
				type: 'boolean',
				default: false,
				description:
					'Whether the key may also come as the apiKey query parameter. Less safe: URLs end up in logs.',
			},
			{
				displayName: 'Allow Create Profiles From URL',
				name: 'allowCreateFromUrl',
				type: 'boolean',
				default: false,
				description: 'Whether <code>createProfiles=true</code> in the URL may create profiles',
			},
			{
				displayName: 'Emit Unmatched Requests',
				name: 'emitUnmatched',
				type: 'boolean',
				default: false,
				description:
					'Whether NOTFOUND and CONSENT_MISMATCH requests also start an execution (they never change a profile)',
			},
			{
				displayName: 'Idempotency Key',
				name: 'idempotencyKey',
				type: 'string',
				default: '',
				placeholder: 'Webhook-ID',
				description:
					'Where the event ID is: a header name (webhook-ID, X-GitHub-Delivery, Idempotency-Key) or a JsonPath into the body ($.ID). A repeated delivery of an event inside the window writes nothing and is answered with the first delivery\'s state.',
			},
			{
				displayName: 'Idempotency Window (Seconds)',
				name: 'idempotencyWindow',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 2592000 },
				default: 86400,
				description: 'How long an event ID is remembered',
			},
			{
				displayName: 'Identifier Field',
				name: 'identifierField',
				type: 'string',
				default: '',
				placeholder: '$.email',
				description:
					'Read the identifier value from the request data (JsonPath or parameter name) instead of the URL. The URL is used when the field is missing.',
			},
			{
				displayName: 'IP Allowlist',
				name: 'ipAllowlist',
				type: 'string',
				default: '',
				placeholder: '10.0.0.0/8, 203.0.113.7, 2001:db8::/32',
				description:
					'Comma-separated addresses and CIDR ranges (IPv4 and IPv6), written as networks (10.0.0.0/8, not 10.0.0.1/8). IPv4 clients seen as ::ffff:a.b.c.d match IPv4 entries. Empty allows every address. Behind a proxy, set N8N_PROXY_HOPS so n8n sees the client address.',
			},
			{
				displayName: 'Max Body Size (KB)',
				name: 'maxBodySize',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1024,
				description: 'Larger requests are refused with 413',
			},
			{
				displayName: 'Objectives',
				name: 'objectives',
				type: 'string',
				default: '',
				placeholder: 'marketing, analytics',
				description:
					'Comma-separated consent objectives. GDPR profiles are only changed when they consented to one of them; other profiles unless they refused them.',
			},
			{
				displayName: 'Records Path',
				name: 'recordsPath',
				type: 'string',
				default: '',
				placeholder: '$[*]',
				description:
					'For batches: a JsonPath that selects the records (for example $[*] or $.events[*]); each record is matched and mapped on its own',
			},
			{
				displayName: 'Response Mode',
				name: 'responseMode',
				type: 'options',
				options: [
					{
						name: 'When Received',
						value: 'onReceived',
						description: 'Answer with the state as soon as the profile is stored',
					},
					{
						name: 'When Last Node Finishes',
						value: 'lastNode',
						description: 'Answer with the first item of the last node that ran',
					},
				],
				default: 'onReceived',
				description: 'When to answer the caller',
			},
			{
				displayName: 'Signature Tolerance (Seconds)',
				name: 'signatureTolerance',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 86400 },
				default: 300,
				description:
					'How far a signed request\'s timestamp may be from now (Standard Webhooks and Stripe-style); older or newer requests are refused as replays',
			},
		],
	},
];
