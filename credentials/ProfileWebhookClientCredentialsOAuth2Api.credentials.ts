import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * OAuth 2.0 client credentials flow for outgoing requests: machine to machine, no user consent.
 * n8n fetches the token on first use and again when the API answers 401.
 */
export class ProfileWebhookClientCredentialsOAuth2Api implements ICredentialType {
	name = 'profileWebhookClientCredentialsOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Profile Webhook Client Credentials OAuth2 API';

	icon: Icon = {
		light: 'file:../nodes/ProfileWebhookTrigger/profileWebhook.svg',
		dark: 'file:../nodes/ProfileWebhookTrigger/profileWebhook.dark.svg',
	};

	documentationUrl = 'https://github.com/n8n-nodes-profile-webhooks/n8n-nodes-profile-webhooks#oauth2-client-credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'hidden',
			default: 'clientCredentials',
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://auth.example.com/oauth2/token',
		},
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'string',
			default: '',
			placeholder: 'api:write',
			description: 'Space-separated scopes',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{ name: 'Header (Basic Auth)', value: 'header' },
				{ name: 'Body', value: 'body' },
			],
			default: 'header',
			description: 'How the client ID and secret reach the token URL',
		},
		{
			displayName: 'Auth URL',
			name: 'authUrl',
			type: 'hidden',
			default: '',
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: '',
		},
	];
}
