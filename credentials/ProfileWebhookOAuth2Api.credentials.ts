import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { clientAuthenticationProperty, profileWebhookIcon } from './common';

/**
 * OAuth 2.0 authorization code flow for outgoing requests, with PKCE on by default. n8n runs the
 * browser consent, stores the tokens and refreshes them.
 */
export class ProfileWebhookOAuth2Api implements ICredentialType {
	name = 'profileWebhookOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Profile Webhook OAuth2 API';

	icon: Icon = profileWebhookIcon;

	documentationUrl = 'https://github.com/n8n-nodes-profile-webhooks/n8n-nodes-profile-webhooks#oauth2-authorization-code';

	properties: INodeProperties[] = [
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'options',
			options: [
				{ name: 'Authorization Code with PKCE', value: 'pkce' },
				{ name: 'Authorization Code', value: 'authorizationCode' },
			],
			default: 'pkce',
			description: 'PKCE protects the code exchange; keep it unless the server cannot do it',
		},
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://auth.example.com/oauth2/authorize',
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
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Leave empty for a public client (PKCE without a secret): n8n then sends only the client ID to the token URL.',
		},
		{
			// Required: n8n puts `scope=` into the authorization URL even when this is empty, and
			// authorization servers refuse an empty scope.
			displayName: 'Scope',
			name: 'scope',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'openid offline_access api:write',
			description:
				'Space-separated scopes (required). Ask for offline_access to get a refresh token.',
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'string',
			default: '',
			placeholder: 'prompt=consent',
			description: 'Added to the authorization URL, for example prompt=consent',
		},
		{ ...clientAuthenticationProperty },
	];
}
