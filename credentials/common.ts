import type { INodeProperties, Icon } from 'n8n-workflow';

/** Every credential of the package wears the package's icon. */
export const profileWebhookIcon: Icon = {
	light: 'file:../nodes/ProfileWebhookTrigger/profileWebhook.svg',
	dark: 'file:../nodes/ProfileWebhookTrigger/profileWebhook.dark.svg',
};

/** How an OAuth 2.0 client authenticates at a token URL (RFC 6749 section 2.3.1). */
export const clientAuthenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{ name: 'Header (Basic Auth)', value: 'header' },
		{ name: 'Body', value: 'body' },
	],
	default: 'header',
	description: 'How the client ID and secret reach the token URL',
};
