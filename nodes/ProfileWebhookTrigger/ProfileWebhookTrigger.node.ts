import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { ProfileWebhookError } from '../../lib/errors';
import {
	handleProfileRequest,
	type ApiKeySecret,
	type HandledRequest,
	type RecordOutcome,
} from '../../lib/inbound/handleRequest';
import {
	getTriggerConfig,
	type CompiledTriggerConfig,
	type TriggerSettings,
} from '../../lib/inbound/triggerConfig';
import { getProfileStore } from '../../lib/store/registry';
import { triggerProperties } from './description';

type ParameterReader = Pick<IWebhookFunctions, 'getNodeParameter'>;

/** The node's parameters as the engine's plain settings. */
function readSettings(context: ParameterReader): TriggerSettings {
	const options = context.getNodeParameter('options', {}) as IDataObject;
	const mappings = context.getNodeParameter('mappings', {}) as {
		mapping?: TriggerSettings['mappings'];
	};
	const events = context.getNodeParameter('timelineEvents', {}) as {
		event?: TriggerSettings['timelineEvents'];
	};
	return {
		authentication: context.getNodeParameter('authentication', 'apiKey') as TriggerSettings['authentication'],
		identifierProperty: String(context.getNodeParameter('identifierProperty', '')),
		createProfiles: Boolean(context.getNodeParameter('createProfiles', false)),
		mappings: (mappings.mapping ?? []).map((m) => ({
			field: String(m.field ?? ''),
			property: String(m.property ?? ''),
			mode: String(m.mode ?? 'set'),
		})),
		timelineEvents: (events.event ?? []).map((e) => ({
			eventType: String(e.eventType ?? ''),
			dateField: String(e.dateField ?? ''),
			idField: String(e.idField ?? ''),
			dataFields: String(e.dataFields ?? ''),
		})),
		ipAllowlist: String(options.ipAllowlist ?? ''),
		allowApiKeyInUrl: Boolean(options.allowApiKeyInUrl),
		allowCreateFromUrl: Boolean(options.allowCreateFromUrl),
		objectives: String(options.objectives ?? ''),
		maxBodySizeKb: options.maxBodySize === undefined ? 1024 : Number(options.maxBodySize),
		emitUnmatched: Boolean(options.emitUnmatched),
		identifierField: String(options.identifierField ?? ''),
		recordsPath: String(options.recordsPath ?? ''),
	};
}

function compiledConfig(context: IWebhookFunctions | IHookFunctions): CompiledTriggerConfig {
	try {
		return getTriggerConfig(readSettings(context));
	} catch (error) {
		if (error instanceof ProfileWebhookError) {
			throw new NodeOperationError(context.getNode(), `Invalid configuration: ${error.message}`, {
				description: error.issues.map((i) => `${i.target}: ${i.message}`).join('\n'),
			});
		}
		throw error;
	}
}

function outputItem(outcome: RecordOutcome, handled: HandledRequest, index: number): INodeExecutionData {
	return {
		json: {
			state: outcome.state,
			profileId: outcome.profileId,
			identifier: outcome.identifier,
			domainGroup: outcome.domainGroup,
			legislation: outcome.legislation,
			...(outcome.ambiguous ? { ambiguous: true } : {}),
			...(outcome.reason ? { reason: outcome.reason } : {}),
			changes: outcome.changes,
			profile: outcome.profile,
			timelineEvents: outcome.timelineEvents,
			request: handled.request,
		} as unknown as IDataObject,
		pairedItem: { item: index },
	};
}

export class ProfileWebhookTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Profile Webhook Trigger',
		name: 'profileWebhookTrigger',
		icon: { light: 'file:profileWebhook.svg', dark: 'file:profileWebhook.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{"/" + $parameter["path"] + " → " + $parameter["identifierProperty"]}}',
		description:
			'Receives BlueConic-style profile updates from external platforms and maps them into profiles',
		defaults: { name: 'Profile Webhook Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'profileWebhookApi',
				required: true,
				displayOptions: { show: { authentication: ['apiKey'] } },
			},
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				// n8n answers onReceived requests with `webhookResponse` only when responseData is falsy.
				responseMode: '={{$parameter["options"]["responseMode"] || "onReceived"}}',
				responseData:
					'={{$parameter["options"]["responseMode"] === "lastNode" ? "firstEntryJson" : ""}}',
				isFullPath: true,
				path: '={{$parameter["path"]}}',
			},
			{
				name: 'default',
				httpMethod: 'GET',
				responseMode: '={{$parameter["options"]["responseMode"] || "onReceived"}}',
				responseData:
					'={{$parameter["options"]["responseMode"] === "lastNode" ? "firstEntryJson" : ""}}',
				isFullPath: true,
				path: '={{$parameter["path"]}}',
			},
		],
		properties: triggerProperties,
	};

	webhookMethods = {
		default: {
			// The webhook lives in n8n itself; nothing to register elsewhere. Checking the
			// configuration here makes activation (and the editor's test mode) fail with a clear
			// message instead of the first request.
			async checkExists(this: IHookFunctions): Promise<boolean> {
				compiledConfig(this);
				return true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				compiledConfig(this);
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const req = this.getRequestObject();
		const res = this.getResponseObject();
		const refuse = (error: ProfileWebhookError): IWebhookResponseData => {
			for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
			res.status(error.status).json(error.toBody());
			return { noWebhookResponse: true };
		};

		let config: CompiledTriggerConfig;
		try {
			config = getTriggerConfig(readSettings(this));
		} catch (error) {
			if (error instanceof ProfileWebhookError) return refuse(error);
			throw error;
		}

		try {
			let secret: ApiKeySecret | undefined;
			if (config.authentication === 'apiKey') {
				const credentials = await this.getCredentials('profileWebhookApi');
				secret = {
					apiKey: String(credentials.apiKey ?? ''),
					headerName: String(credentials.headerName || 'X-API-Key'),
				};
			}
			const handled = await handleProfileRequest(
				config,
				{
					method: req.method,
					ip: req.ip,
					headers: req.headers,
					query: (req.query ?? {}) as Record<string, unknown>,
					contentType: req.contentType,
					body: req.body,
					rawBody: req.rawBody,
				},
				getProfileStore(),
				secret,
			);
			if (!handled.emitted.length) {
				// Nothing matched: answer the caller, start no execution.
				res.status(200).json(handled.answer);
				return { noWebhookResponse: true };
			}
			return {
				webhookResponse: handled.answer,
				workflowData: [
					handled.emitted.map((outcome, index) => outputItem(outcome, handled, index)),
				],
			};
		} catch (error) {
			if (error instanceof ProfileWebhookError) return refuse(error);
			throw error;
		}
	}
}
