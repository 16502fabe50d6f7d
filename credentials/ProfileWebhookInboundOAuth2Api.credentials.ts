import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { profileWebhookIcon } from './common';

/**
 * How the Profile Webhook Trigger checks OAuth 2.0 bearer tokens on incoming requests: JWT access
 * tokens of an external authorization server (JWKS or a shared HS256 secret), opaque tokens by
 * token introspection, and the tokens the trigger issues itself to registered applications at
 * `<webhook path>/oauth/token` (client_credentials).
 */
export class ProfileWebhookInboundOAuth2Api implements ICredentialType {
	name = 'profileWebhookInboundOAuth2Api';

	displayName = 'Profile Webhook Inbound OAuth2 API';

	icon: Icon = profileWebhookIcon;

	documentationUrl = 'https://github.com/n8n-nodes-profile-webhooks/n8n-nodes-profile-webhooks#trigger-authentication-with-oauth2-bearer-tokens';

	properties: INodeProperties[] = [
		{
			displayName: 'Verification',
			name: 'verification',
			type: 'options',
			options: [
				{
					name: 'JWT Access Tokens',
					value: 'jwt',
					description: 'Signed JWTs of an authorization server, checked with its JWKS or a shared secret',
				},
				{
					name: 'Token Introspection (RFC 7662)',
					value: 'introspection',
					description: 'Opaque tokens, checked by asking the authorization server',
				},
				{
					name: 'Only Tokens This Trigger Issues',
					value: 'registeredApplicationsOnly',
					description: 'No external authorization server: registered applications fetch tokens from the trigger',
				},
			],
			default: 'jwt',
			description: 'How the trigger decides whether a bearer token is good',
		},
		{
			displayName: 'Issuer',
			name: 'issuer',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com/',
			description:
				'The exact "iss" of the tokens. Required for JWTs; for introspection, checked when set.',
			displayOptions: { show: { verification: ['jwt', 'introspection'] } },
		},
		{
			displayName: 'Audience',
			name: 'audience',
			type: 'string',
			default: '',
			placeholder: 'https://api.example.com/profiles',
			description:
				'The "aud" the tokens must be meant for (several: separate with commas). Required for JWTs; for introspection, checked when set.',
			displayOptions: { show: { verification: ['jwt', 'introspection'] } },
		},
		{
			displayName: 'Key Source',
			name: 'keySource',
			type: 'options',
			options: [
				{
					name: 'JWKS URL (RS256, ES256)',
					value: 'jwks',
					description: "The authorization server's public keys",
				},
				{
					name: 'Shared Secret (HS256)',
					value: 'sharedSecret',
					description: 'A secret the authorization server signs with',
				},
			],
			default: 'jwks',
			displayOptions: { show: { verification: ['jwt'] } },
		},
		{
			displayName: 'JWKS URL',
			name: 'jwksUrl',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com/.well-known/jwks.json',
			description:
				'Keys are fetched once and kept; a token with an unknown key ID fetches them again (at most once per cooldown)',
			displayOptions: { show: { verification: ['jwt'], keySource: ['jwks'] } },
		},
		{
			displayName: 'Allowed Algorithms',
			name: 'allowedAlgorithms',
			type: 'multiOptions',
			options: [
				{ name: 'ES256', value: 'ES256' },
				{ name: 'RS256', value: 'RS256' },
			],
			default: ['RS256', 'ES256'],
			description: 'Signature algorithms accepted; "none" and HS256 never are with a JWKS',
			displayOptions: { show: { verification: ['jwt'], keySource: ['jwks'] } },
		},
		{
			displayName: 'JWKS Refetch Cooldown (Seconds)',
			name: 'jwksCooldownSeconds',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 3600 },
			default: 30,
			description: 'The shortest time between two fetches of the JWKS, whatever tokens arrive',
			displayOptions: { show: { verification: ['jwt'], keySource: ['jwks'] } },
		},
		{
			displayName: 'Shared Secret',
			name: 'sharedSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The HS256 secret, at least 32 characters',
			displayOptions: { show: { verification: ['jwt'], keySource: ['sharedSecret'] } },
		},
		{
			displayName: 'Introspection URL',
			name: 'introspectionUrl',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com/oauth2/introspect',
			displayOptions: { show: { verification: ['introspection'] } },
		},
		{
			displayName: 'Introspection Client ID',
			name: 'introspectionClientId',
			type: 'string',
			default: '',
			description: 'The client this trigger authenticates as at the introspection endpoint',
			displayOptions: { show: { verification: ['introspection'] } },
		},
		{
			displayName: 'Introspection Client Secret',
			name: 'introspectionClientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { verification: ['introspection'] } },
		},
		{
			displayName: 'Introspection Client Authentication',
			name: 'introspectionClientAuthentication',
			type: 'options',
			options: [
				{ name: 'Header (Basic Auth)', value: 'basic' },
				{ name: 'Body', value: 'body' },
			],
			default: 'basic',
			displayOptions: { show: { verification: ['introspection'] } },
		},
		{
			displayName: 'Introspection Cache TTL (Seconds)',
			name: 'introspectionCacheSeconds',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 3600 },
			default: 60,
			description:
				'How long an "active" answer is reused (never past the token\'s expiry); 0 asks every time. A revoked token is accepted until then. "Not active" answers are reused for 30 seconds.',
			displayOptions: { show: { verification: ['introspection'] } },
		},
		{
			displayName: 'Max Introspections per Second',
			name: 'introspectionMaxPerSecond',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 1000 },
			default: 10,
			description:
				'Bound on calls to the introspection endpoint (tokens not in the cache). Requests beyond it are answered 503 with Retry-After, so unknown tokens cannot flood the authorization server.',
			displayOptions: { show: { verification: ['introspection'] } },
		},
		{
			displayName: 'Required Scopes',
			name: 'requiredScopes',
			type: 'string',
			default: '',
			placeholder: 'profile:write',
			description:
				'Scopes every token must grant (separate with spaces). A token without them is refused with 403 insufficient_scope.',
		},
		{
			displayName: 'Clock Skew (Seconds)',
			name: 'clockSkewSeconds',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 600 },
			default: 60,
			description: 'Tolerated clock difference when checking expiry (exp) and not-before (nbf)',
		},
		{
			displayName: 'Registered Applications',
			name: 'registeredApplications',
			type: 'string',
			typeOptions: { password: true, rows: 4 },
			default: '',
			placeholder: 'crm-platform:a-long-random-secret',
			description:
				'Applications that may fetch tokens from the trigger\'s token URL (&lt;webhook URL&gt;/oauth/token, client_credentials). One client_id:client_secret per line (secrets of 16+ characters), or a JSON array of {"clientId", "clientSecret", "scopes"}. Empty: no token URL.',
		},
		{
			displayName: 'Token Signing Secret',
			name: 'tokenSigningSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Signs (HS256) the tokens the trigger issues; at least 32 characters. Changing it ends every issued token.',
		},
		{
			displayName: 'Token Lifetime (Seconds)',
			name: 'tokenLifetimeSeconds',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 86400 },
			default: 300,
			description: 'How long the tokens the trigger issues are valid',
		},
	];
}
