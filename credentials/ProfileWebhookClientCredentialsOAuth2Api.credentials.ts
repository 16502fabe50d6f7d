import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { clientAuthenticationProperty, profileWebhookIcon } from './common';

/**
 * OAuth 2.0 client credentials flow for outgoing requests: machine to machine, no user consent.
 * n8n fetches the token on first use and again when the API answers 401.
 */
export class ProfileWebhookClientCredentialsOAuth2Api implements ICredentialType {
	name = 'profileWebhookClientCredentialsOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Profile Webhook Client Credentials OAuth2 API';

	icon: Icon = profileWebhookIcon;

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
		{ ...clientAuthenticationProperty },
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
