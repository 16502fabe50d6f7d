import {
	NodeConnectionTypes,
	type IDataObject,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { ProfileWebhookError } from '../../lib/errors';
import { configurationFailure } from '../shared/configurationError';
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
import {
	answerTokenRequest,
	authenticateBearer,
	getInboundOAuth2,
	type CompiledInboundOAuth2,
} from '../../lib/inbound/oauth';
import { assertAllowed } from '../../lib/inbound/ipAllowlist';
import { signingKeys } from '../../lib/inbound/signatures';
import { checkStoreSelection, getProfileEngine } from '../../lib/store/registry';
import { StoreUnavailableError } from '../../lib/store/StoreUnavailableError';
import { storeSelection } from '../shared/profileStore';
import { triggerProperties } from './description';
import { INBOUND_OAUTH2_CREDENTIAL, n8nHttpFetch, readInboundOAuth2Settings } from './inboundOAuth2';

type ParameterReader = Pick<IWebhookFunctions, 'getNodeParameter'>;

const SIGNATURE_CREDENTIAL = 'profileWebhookSignatureApi';

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
		signature: String(context.getNodeParameter('signature', 'none')),
		signatureToleranceSeconds: options.signatureTolerance === undefined ? undefined : Number(options.signatureTolerance),
		idempotencyKey: String(options.idempotencyKey ?? ''),
		idempotencyWindowSeconds: options.idempotencyWindow === undefined ? undefined : Number(options.idempotencyWindow),
	};
}

function compiledConfig(context: IWebhookFunctions | IHookFunctions): CompiledTriggerConfig {
	try {
		return getTriggerConfig(readSettings(context));
	} catch (error) {
		throw configurationFailure(context.getNode(), error);
	}
}

/** The compiled OAuth2 credential; a bad credential becomes a ConfigurationError (500). */
async function inboundOAuth2(context: IWebhookFunctions | IHookFunctions): Promise<CompiledInboundOAuth2> {
	return getInboundOAuth2(await readInboundOAuth2Settings(context));
}

/**
 * The webhook path (the audience of the tokens the trigger issues): as configured, or, when Path is
 * empty (the default), the node's webhook id, which n8n then serves it at.
 */
function webhookPath(context: ParameterReader & Pick<IWebhookFunctions, 'getNode'>): string {
	const path = String(context.getNodeParameter('path', '')).replace(/^\/+|\/+$/g, '');
	return path || (context.getNode().webhookId ?? '');
}

/** The signature credential's secrets as HMAC keys; a ConfigurationError names a bad secret. */
async function signatureKeys(
	context: IWebhookFunctions | IHookFunctions,
	config: CompiledTriggerConfig,
): Promise<Buffer[] | undefined> {
	if (!config.signature) return undefined;
	const credentials = await context.getCredentials(SIGNATURE_CREDENTIAL);
	return signingKeys(config.signature.scheme, [String(credentials.secret ?? ''), String(credentials.previousSecret ?? '')]);
}

/** Parameters and the credentials they need: a NodeOperationError that lists every problem. */
async function checkConfiguration(context: IHookFunctions): Promise<void> {
	const config = compiledConfig(context);
	const selection = await storeSelection(context);
	try {
		// The embedded store in queue mode or multi-main, or unusable PostgreSQL settings: refused
		// here, at activation, rather than answered 503 on every call.
		checkStoreSelection(selection);
	} catch (error) {
		throw configurationFailure(context.getNode(), error, 'profile store');
	}
	try {
		// Lookups by the identifier property are indexed from the first request on; indexing an
		// existing store is a one-off scan, done here rather than inside a caller's request.
		await getProfileEngine(selection).ensureIndexed([config.identifierProperty]);
	} catch (error) {
		// A store that cannot be reached now does not keep the workflow inactive: calls answer 503
		// until it is back, and the first one indexes.
		if (!(error instanceof StoreUnavailableError)) throw configurationFailure(context.getNode(), error, 'profile store');
	}
	if (config.signature) {
		try {
			await signatureKeys(context, config);
		} catch (error) {
			throw configurationFailure(context.getNode(), error, 'Signature credential');
		}
	}
	if (config.authentication !== 'oAuth2') return;
	try {
		await inboundOAuth2(context);
	} catch (error) {
		throw configurationFailure(context.getNode(), error, 'OAuth2 credential');
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

/**
 * `<path>/oauth/token`: the client_credentials token endpoint for the credential's registered
 * applications. The IP allowlist applies here too; without OAuth2 or applications it is a 404.
 */
async function answerTokenUrl(
	context: IWebhookFunctions,
	config: CompiledTriggerConfig,
	refuse: (error: ProfileWebhookError) => IWebhookResponseData,
): Promise<IWebhookResponseData> {
	const req = context.getRequestObject();
	const res = context.getResponseObject();
	try {
		assertAllowed(config.allowlist, req.ip);
		const answer =
			config.authentication === 'oAuth2'
				? await answerTokenRequest(
						await inboundOAuth2(context),
						{ method: req.method, contentType: req.contentType, headers: req.headers, body: req.body },
						webhookPath(context),
					)
				: undefined;
		if (!answer) {
			res.status(404).json({
				error: 'not_found',
				error_description:
					'This webhook issues no access tokens: its OAuth2 credential lists no registered applications',
			});
			return { noWebhookResponse: true };
		}
		for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
		res.status(answer.status).json(answer.body);
		return { noWebhookResponse: true };
	} catch (error) {
		if (error instanceof ProfileWebhookError) return refuse(error);
		throw error;
	}
}

export class ProfileWebhookTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Profile Webhook Trigger',
		name: 'profileWebhookTrigger',
		icon: { light: 'file:profileWebhook.svg', dark: 'file:profileWebhook.dark.svg' },
		group: ['trigger'],
		// 2: Path defaults to empty (the node's unique webhook id) instead of "profiles".
		version: [1, 2],
		defaultVersion: 2,
		subtitle: '={{"/" + ($parameter["path"] || "(unique path)") + " → " + $parameter["identifierProperty"]}}',
		description:
			'Receives BlueConic-style profile updates from external platforms and maps them into profiles',
		defaults: { name: 'Profile Webhook Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			// Optional: which profile store (embedded SQLite without it).
			{ name: 'profileStoreApi', required: false },
			{
				name: 'profileWebhookApi',
				required: true,
				displayOptions: { show: { authentication: ['apiKey'] } },
			},
			{
				name: INBOUND_OAUTH2_CREDENTIAL,
				required: true,
				displayOptions: { show: { authentication: ['oAuth2'] } },
			},
			{
				name: SIGNATURE_CREDENTIAL,
				required: true,
				displayOptions: { show: { signature: ['standardWebhooks', 'stripe', 'github'] } },
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
			{
				// The token URL for registered applications (OAuth2 client_credentials). n8n registers
				// every entry; it answers 404 unless the credential lists applications. Named 'setup'
				// (n8n's other webhook name) so webhook() can tell it from the profile endpoint.
				name: 'setup',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				isFullPath: true,
				// An empty Path means the node's webhook id (as n8n does for the main path).
				path: '={{($parameter["path"] || $webhookId) + "/oauth/token"}}',
				// Listed in the editor only where it serves something: OAuth2 mode.
				ndvHideUrl: '={{$parameter["authentication"] !== "oAuth2"}}',
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
				await checkConfiguration(this);
				return true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				await checkConfiguration(this);
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
			// The caller is told what was wrong without configured URLs; the workflow's owner gets
			// the endpoint (without credentials) in n8n's log.
			const detail = (error as { detail?: unknown }).detail;
			if (typeof detail === 'string' && detail) {
				this.logger.warn(`Profile Webhook Trigger "${this.getNode().name}": ${detail}`);
			}
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

		if (this.getWebhookName() === 'setup') return await answerTokenUrl(this, config, refuse);

		try {
			let secret: ApiKeySecret | undefined;
			let verifyBearer: ((authorization: string | string[] | undefined) => Promise<unknown>) | undefined;
			if (config.authentication === 'apiKey') {
				const credentials = await this.getCredentials('profileWebhookApi');
				secret = {
					apiKey: String(credentials.apiKey ?? ''),
					headerName: String(credentials.headerName || 'X-API-Key'),
				};
			} else if (config.authentication === 'oAuth2') {
				const oauth = await inboundOAuth2(this);
				const context = { http: n8nHttpFetch(this), webhookPath: webhookPath(this) };
				verifyBearer = async (authorization) => await authenticateBearer(oauth, authorization, context);
			}
			const keys = await signatureKeys(this, config);
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
				getProfileEngine(await storeSelection(this)),
				secret,
				{ verifyBearer, signatureKeys: keys },
				{
					source: `trigger:${this.getWorkflow().id ?? ''}`,
					idempotencyScope: `${this.getWorkflow().id ?? ''}/${this.getNode().id}`,
				},
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
