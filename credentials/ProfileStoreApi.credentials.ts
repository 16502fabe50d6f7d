import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { profileWebhookIcon } from './common';

/**
 * Where every node of the package keeps profiles. Without this credential they use the embedded
 * SQLite file in the n8n user folder. n8n in queue mode or multi-main needs PostgreSQL: processes
 * on other machines cannot share one file, and the embedded store is refused at activation there.
 */
export class ProfileStoreApi implements ICredentialType {
	name = 'profileStoreApi';

	displayName = 'Profile Store API';

	icon: Icon = profileWebhookIcon;

	documentationUrl = 'https://github.com/n8n-nodes-profile-webhooks/n8n-nodes-profile-webhooks#choosing-the-profile-store';

	properties: INodeProperties[] = [
		{
			displayName: 'Store',
			name: 'store',
			type: 'options',
			options: [
				{
					name: 'Embedded (SQLite)',
					value: 'embedded',
					description: 'A file on the n8n machine. One n8n process (regular mode) only.',
				},
				{
					name: 'PostgreSQL',
					value: 'postgres',
					description: 'Shared by every n8n process and machine: required in queue mode and multi-main',
				},
			],
			default: 'embedded',
		},
		{
			displayName: 'File Path',
			name: 'filePath',
			type: 'string',
			default: '',
			placeholder: '/home/node/.n8n/profile-webhooks/profiles.sqlite',
			displayOptions: { show: { store: ['embedded'] } },
			description: 'Leave empty for the default file in the n8n user folder',
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: 'localhost',
			required: true,
			displayOptions: { show: { store: ['postgres'] } },
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 5432,
			displayOptions: { show: { store: ['postgres'] } },
		},
		{
			displayName: 'Database',
			name: 'database',
			type: 'string',
			default: 'n8n',
			required: true,
			displayOptions: { show: { store: ['postgres'] } },
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
			required: true,
			displayOptions: { show: { store: ['postgres'] } },
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { store: ['postgres'] } },
		},
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			options: [
				{ name: 'Disable', value: 'disable' },
				{ name: 'Require', value: 'require', description: 'Encrypted; the server certificate is not checked' },
				{ name: 'Verify Full', value: 'verify-full', description: 'Encrypted; certificate and host name checked' },
			],
			default: 'disable',
			displayOptions: { show: { store: ['postgres'] } },
		},
		{
			displayName: 'CA Certificate',
			name: 'caCertificate',
			type: 'string',
			typeOptions: { password: true, rows: 4 },
			default: '',
			displayOptions: { show: { store: ['postgres'], ssl: ['verify-full'] } },
			description: 'PEM of the authority that signed the server certificate, when it is not a public one',
		},
		{
			displayName: 'Schema',
			name: 'schema',
			type: 'string',
			default: 'profile_webhooks',
			displayOptions: { show: { store: ['postgres'] } },
			description:
				'The schema the store creates its tables in (lower-case letters, digits and _). The store creates and upgrades it.',
		},
		{
			displayName: 'Max Connections',
			name: 'maxConnections',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 10,
			displayOptions: { show: { store: ['postgres'] } },
			description: 'Connections per n8n process (main, webhook processes and workers each hold their own)',
		},
	];
}
