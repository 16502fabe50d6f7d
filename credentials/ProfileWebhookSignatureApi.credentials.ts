import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { profileWebhookIcon } from './common';

/**
 * The secret a sending platform signs its webhooks with (Standard Webhooks, Stripe-style or
 * GitHub-style HMAC-SHA256; the trigger's Signature parameter says which). A second secret lets
 * the receiving side rotate: while both are set, a request signed with either is accepted.
 */
export class ProfileWebhookSignatureApi implements ICredentialType {
	name = 'profileWebhookSignatureApi';

	displayName = 'Profile Webhook Signature API';

	icon: Icon = profileWebhookIcon;

	documentationUrl = 'https://github.com/n8n-nodes-profile-webhooks/n8n-nodes-profile-webhooks#signed-webhooks';

	properties: INodeProperties[] = [
		{
			displayName: 'Signing Secret',
			name: 'secret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			placeholder: 'whsec_...',
			description:
				'The secret the platform shows for this endpoint. Standard Webhooks: whsec_ followed by base64 (the key bytes). Stripe-style and GitHub-style: the secret exactly as shown (a Stripe secret keeps its whsec_).',
		},
		{
			displayName: 'Previous Signing Secret',
			name: 'previousSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'While rotating: the old secret, still accepted next to the new one. Clear it once the platform signs with the new secret only.',
		},
	];
}
