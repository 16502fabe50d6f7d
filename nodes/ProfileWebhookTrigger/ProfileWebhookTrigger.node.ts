import {
	NodeConnectionTypes,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

export class ProfileWebhookTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Profile Webhook Trigger',
		name: 'profileWebhookTrigger',
		icon: { light: 'file:profileWebhook.svg', dark: 'file:profileWebhook.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["path"]}}',
		description:
			'Receives BlueConic-style profile updates from external platforms and maps them into profiles',
		defaults: { name: 'Profile Webhook Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				responseData: '',
				isFullPath: true,
				path: '={{$parameter["path"]}}',
			},
		],
		properties: [
			{
				displayName: 'Path',
				name: 'path',
				type: 'string',
				default: 'profiles',
				required: true,
				description: 'The path of the webhook URL',
			},
		],
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const res = this.getResponseObject();
		res.status(501).json({
			error: { code: 'NOT_IMPLEMENTED', message: 'Profile matching is not built yet' },
		});
		return { noWebhookResponse: true };
	}
}
