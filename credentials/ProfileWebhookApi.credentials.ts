import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { profileWebhookIcon } from './common';

/**
 * An API key shared with an external platform. The Profile Webhook Trigger checks it on every
 * incoming request; the Profile Webhook node sends it with every outgoing request.
 */
export class ProfileWebhookApi implements ICredentialType {
	name = 'profileWebhookApi';

	// The rule wants "API" at the end; "Profile Webhook API Key API" read as a typo to users.
	// eslint-disable-next-line n8n-nodes-base/cred-class-field-display-name-missing-api
	displayName = 'Profile Webhook API Key';

	icon: Icon = profileWebhookIcon;

	documentationUrl = 'https://github.com/n8n-nodes-profile-webhooks/n8n-nodes-profile-webhooks#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The shared secret. Use a long random value: the trigger compares it in constant time.',
		},
		{
			displayName: 'Header Name',
			name: 'headerName',
			type: 'string',
			default: 'X-API-Key',
			required: true,
			description: 'The HTTP header that carries the key',
		},
		{
			displayName: 'Send Key In',
			name: 'sendIn',
			type: 'options',
			options: [
				{ name: 'Header', value: 'header' },
				{
					name: 'Query Parameter',
					value: 'query',
					description: 'Less safe: URLs end up in proxy and server logs',
				},
			],
			default: 'header',
			description: 'Where outgoing requests carry the key',
		},
		{
			displayName: 'Query Parameter Name',
			name: 'queryParameterName',
			type: 'string',
			default: 'apiKey',
			displayOptions: { show: { sendIn: ['query'] } },
			description: 'The query parameter that carries the key on outgoing requests',
		},
	];

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const apiKey = String(credentials.apiKey ?? '');
		if (credentials.sendIn === 'query') {
			const name = String(credentials.queryParameterName || 'apiKey');
			return { ...requestOptions, qs: { ...(requestOptions.qs ?? {}), [name]: apiKey } };
		}
		const header = String(credentials.headerName || 'X-API-Key');
		return { ...requestOptions, headers: { ...(requestOptions.headers ?? {}), [header]: apiKey } };
	}
}
