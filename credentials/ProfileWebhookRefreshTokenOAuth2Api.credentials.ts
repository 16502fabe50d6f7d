import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { clientAuthenticationProperty, profileWebhookIcon } from './common';

import {
	ensureAccessToken,
	type RefreshTokenCredentials,
	type TokenHttp,
} from '../lib/auth/refreshTokenExchange';

function toExchangeCredentials(c: ICredentialDataDecryptedObject): RefreshTokenCredentials {
	return {
		tokenUrl: String(c.tokenUrl ?? ''),
		clientId: String(c.clientId ?? ''),
		clientSecret: String(c.clientSecret ?? ''),
		clientAuthentication: c.authentication === 'body' ? 'body' : 'header',
		refreshToken: String(c.refreshToken ?? ''),
		scope: c.scope ? String(c.scope) : undefined,
		accessToken: c.accessToken ? String(c.accessToken) : undefined,
		expiresAt: Number(c.expiresAt) || 0,
	};
}

/** The credentials objects this process already gave a token to, one per outgoing request. */
const handedOut = new WeakSet<object>();

/**
 * OAuth 2.0 for systems that hand out a refresh token (pasted here once): it is exchanged for
 * access tokens before they expire, and a rotated refresh token is stored for the next exchange.
 */
export class ProfileWebhookRefreshTokenOAuth2Api implements ICredentialType {
	name = 'profileWebhookRefreshTokenOAuth2Api';

	displayName = 'Profile Webhook Refresh Token OAuth2 API';

	icon: Icon = profileWebhookIcon;

	documentationUrl = 'https://github.com/n8n-nodes-profile-webhooks/n8n-nodes-profile-webhooks#oauth2-refresh-token';

	properties: INodeProperties[] = [
		{
			// n8n calls preAuthentication while this stays empty, so it runs before every request and
			// decides itself whether the stored access token is still fresh: refresh ahead of expiry.
			displayName: 'Session Check',
			name: 'sessionCheck',
			type: 'hidden',
			typeOptions: { expirable: true },
			default: '',
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Expires At',
			name: 'expiresAt',
			type: 'hidden',
			default: 0,
		},
		{
			displayName: 'Token URL',
			name: 'tokenUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://auth.example.com/oauth2/token',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Leave empty for a public client',
		},
		{
			displayName: 'Refresh Token',
			name: 'refreshToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The refresh token the system handed out. When the server rotates it, the new one is stored here automatically.',
		},
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'string',
			default: '',
			description: 'Space-separated scopes to ask for (optional)',
		},
		{ ...clientAuthenticationProperty },
	];

	async preAuthentication(
		this: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
	): Promise<IDataObject> {
		const http: TokenHttp = async ({ url, headers, body }) => {
			const response = (await this.helpers.httpRequest({
				method: 'POST',
				url,
				headers,
				body,
				json: false,
				ignoreHttpStatusErrors: true,
				returnFullResponse: true,
			})) as { statusCode: number; body: unknown };
			let parsed: unknown = response.body;
			if (typeof parsed === 'string' || Buffer.isBuffer(parsed)) {
				try {
					parsed = JSON.parse(String(parsed));
				} catch {
					parsed = { error: 'invalid_response', error_description: String(parsed).slice(0, 200) };
				}
			}
			return { status: response.statusCode, body: parsed };
		};
		const stored = toExchangeCredentials(credentials);
		// n8n calls this hook a second time with the same credentials object when the API refused
		// the request (401): that token must not be handed out again.
		const refused = handedOut.has(credentials);
		handedOut.add(credentials);
		const tokens = await ensureAccessToken(stored, http, { afterRefusal: refused });
		if (
			tokens.accessToken === stored.accessToken &&
			tokens.refreshToken === stored.refreshToken &&
			tokens.expiresAt === stored.expiresAt
		) {
			return {};
		}
		return {
			sessionCheck: '',
			accessToken: tokens.accessToken,
			expiresAt: tokens.expiresAt,
			refreshToken: tokens.refreshToken,
		};
	}

	authenticate = {
		type: 'generic' as const,
		properties: {
			headers: { Authorization: '=Bearer {{$credentials.accessToken}}' },
		},
	};
}
