import {
	NodeApiError,
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type JsonObject,
} from 'n8n-workflow';

import { describeCredentialFailure, findCredentialFailure } from '../../lib/auth/credentialFailure';
import { CredentialGate } from '../../lib/auth/credentialGate';
import { redactSecrets } from '../../lib/inbound/apiKey';
import { mapWithConcurrency } from '../../lib/outbound/concurrency';
import type { OutgoingRequest } from '../../lib/outbound/request';
import { sendWithRetries, type Outcome } from '../../lib/outbound/retry';
import {
	completeDelivery,
	getWebhookConfig,
	prepareDelivery,
	profileFromItem,
	type CompiledWebhookConfig,
	type ItemProfile,
	type WebhookSettings,
} from '../../lib/outbound/webhookConfig';
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { profileStoreCredential, storeSelection } from '../shared/profileStore';
import { configurationFailure } from '../shared/configurationError';
import { webhookProperties } from './description';

const CREDENTIAL_TYPES: Record<string, string | undefined> = {
	none: undefined,
	apiKey: 'profileWebhookApi',
	oAuth2AuthorizationCode: 'profileWebhookOAuth2Api',
	oAuth2ClientCredentials: 'profileWebhookClientCredentialsOAuth2Api',
	oAuth2RefreshToken: 'profileWebhookRefreshTokenOAuth2Api',
};

/** For messages about a credential that cannot get a token: its type's name and how to fix it. */
const CREDENTIAL_HELP: Record<string, { typeDisplayName: string; renewWhat: string }> = {
	profileWebhookOAuth2Api: {
		typeDisplayName: 'Profile Webhook OAuth2 API',
		renewWhat: 'Open the credential and reconnect it (Connect my account).',
	},
	profileWebhookClientCredentialsOAuth2Api: {
		typeDisplayName: 'Profile Webhook Client Credentials OAuth2 API',
		renewWhat: 'Check the credential.',
	},
	profileWebhookRefreshTokenOAuth2Api: {
		typeDisplayName: 'Profile Webhook Refresh Token OAuth2 API',
		renewWhat: 'Renew the refresh token: paste a new one into the credential.',
	},
};

const list = (value: unknown): string[] =>
	String(value ?? '')
		.split(',')
		.map((part) => part.trim())
		.filter(Boolean);

function readSettings(context: IExecuteFunctions): WebhookSettings {
	const headers = context.getNodeParameter('headers', 0, {}) as {
		header?: Array<{ name: string; value: string }>;
	};
	const mappings = context.getNodeParameter('responseMappings', 0, {}) as {
		mapping?: WebhookSettings['responseMappings'];
	};
	const method = String(context.getNodeParameter('method', 0, 'POST'));
	const triggerOn = context.getNodeParameter('triggerOn', 0, 'propertyChange') as WebhookSettings['triggerOn'];
	return {
		profileSource: context.getNodeParameter('profileSource', 0, 'input') as WebhookSettings['profileSource'],
		segments: list(context.getNodeParameter('segments', 0, '')),
		objectives: list(context.getNodeParameter('objectives', 0, '')),
		triggerOn,
		triggerProperties:
			triggerOn === 'propertyChange' ? list(context.getNodeParameter('triggerProperties', 0, '')) : [],
		triggerEvents: triggerOn === 'event' ? list(context.getNodeParameter('triggerEvents', 0, '')) : [],
		method,
		url: String(context.getNodeParameter('url', 0, '')),
		headers: (headers.header ?? []).map((h) => ({ name: String(h.name ?? ''), value: String(h.value ?? '') })),
		bodyFormat:
			method === 'GET'
				? 'json'
				: (context.getNodeParameter('bodyFormat', 0, 'json') as WebhookSettings['bodyFormat']),
		body: method === 'GET' ? '' : String(context.getNodeParameter('body', 0, '')),
		responseMappings: (mappings.mapping ?? []).map((m) => ({
			path: String(m.path ?? ''),
			property: String(m.property ?? ''),
			mode: String(m.mode ?? 'set'),
		})),
	};
}

interface HttpAnswer {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	body: unknown;
}

/** The status, headers and body of an HTTP error thrown by n8n's request helpers, if it has one. */
function answerOf(error: unknown): HttpAnswer | undefined {
	const candidates = [error, (error as { cause?: unknown })?.cause];
	for (const candidate of candidates) {
		const response = (candidate as { response?: { status?: number; headers?: unknown; data?: unknown } })
			?.response;
		if (response?.status) {
			return {
				status: response.status,
				headers: (response.headers ?? {}) as HttpAnswer['headers'],
				body: response.data,
			};
		}
	}
	const httpCode = Number((error as { httpCode?: string })?.httpCode);
	return Number.isInteger(httpCode) && httpCode >= 100
		? { status: httpCode, headers: {}, body: (error as { description?: string }).description }
		: undefined;
}

function parseBody(body: unknown): unknown {
	if (Buffer.isBuffer(body)) body = body.toString('utf8');
	if (typeof body !== 'string') return body;
	try {
		return body.trim() ? JSON.parse(body) : body;
	} catch {
		return body;
	}
}

const SECRET_QUERY = /^(api[-_]?key|key|token|access[-_]?token|secret|client[-_]?secret|password)$/i;

/** The request as sent, for output items: credential headers and secret-looking query values removed. */
function shownRequest(request: OutgoingRequest): IDataObject {
	const url = new URL(request.url);
	for (const name of [...url.searchParams.keys()]) {
		if (SECRET_QUERY.test(name)) url.searchParams.set(name, '[redacted]');
	}
	const { headers } = redactSecrets(
		{ headers: request.headers },
		{ headerNames: ['x-api-key', 'api-key', 'x-auth-token'] },
	);
	return { method: request.method, url: url.toString(), headers, body: request.body ?? null } as IDataObject;
}

function serverMessage(answer: HttpAnswer): string {
	const body = parseBody(answer.body);
	if (body && typeof body === 'object') {
		const b = body as Record<string, unknown>;
		const message = b.message ?? b.error_description ?? b.error ?? b.detail;
		if (message !== undefined) return typeof message === 'string' ? message : JSON.stringify(message);
	}
	return typeof body === 'string' && body ? body.slice(0, 500) : `HTTP ${answer.status}`;
}

export class ProfileWebhook implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Profile Webhook',
		name: 'profileWebhook',
		icon: { light: 'file:profileWebhook.svg', dark: 'file:profileWebhook.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["method"] + " " + $parameter["url"]}}',
		description:
			'Sends a templated request to a REST API for profiles in the right segments, with consent and changes, and maps the answer back',
		defaults: { name: 'Profile Webhook' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [
			{ type: NodeConnectionTypes.Main, displayName: 'Sent' },
			{ type: NodeConnectionTypes.Main, displayName: 'Skipped' },
		],
		credentials: [
			profileStoreCredential,
			{
				name: 'profileWebhookApi',
				required: true,
				displayOptions: { show: { authentication: ['apiKey'] } },
			},
			{
				name: 'profileWebhookOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['oAuth2AuthorizationCode'] } },
			},
			{
				name: 'profileWebhookClientCredentialsOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['oAuth2ClientCredentials'] } },
			},
			{
				name: 'profileWebhookRefreshTokenOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['oAuth2RefreshToken'] } },
			},
		],
		properties: webhookProperties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const node = this.getNode();
		let config: CompiledWebhookConfig;
		try {
			config = getWebhookConfig(readSettings(this));
		} catch (error) {
			throw configurationFailure(node, error);
		}
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const concurrency = Math.max(1, Math.floor(Number(options.concurrency ?? 5)));
		const retries = Math.max(0, Math.floor(Number(options.retries ?? 3)));
		const timeout = Math.max(1, Number(options.timeout ?? 10000));
		const includeRequest = Boolean(options.includeRequest) || this.getMode() === 'manual';
		const authentication = String(this.getNodeParameter('authentication', 0, 'none'));
		const credentialType = CREDENTIAL_TYPES[authentication];
		let store: ProfileEngine;
		try {
			store = getProfileEngine(await storeSelection(this));
		} catch (error) {
			throw configurationFailure(node, error, 'profile store');
		}
		const goalId = `${this.getWorkflow().id ?? 'workflow'}:${node.id}`;

		const sendOnce = async (request: OutgoingRequest): Promise<Outcome & { answer?: HttpAnswer }> => {
			const options: IHttpRequestOptions = {
				method: request.method,
				url: request.url,
				headers: { ...request.headers },
				body: request.body,
				json: false,
				timeout,
				returnFullResponse: true,
			};
			try {
				const response = (credentialType
					? await this.helpers.httpRequestWithAuthentication.call(this, credentialType, options)
					: await this.helpers.httpRequest(options)) as {
					statusCode: number;
					headers: HttpAnswer['headers'];
					body: unknown;
				};
				const answer = { status: response.statusCode, headers: response.headers, body: response.body };
				return { status: answer.status, headers: answer.headers, answer };
			} catch (error) {
				// A credential that could not get a token is no answer from the API, whatever the token
				// endpoint's status was.
				const answer = findCredentialFailure(error) ? undefined : answerOf(error);
				if (answer) return { status: answer.status, headers: answer.headers, answer, error };
				return { error };
			}
		};
		// The first authenticated request goes alone (a lazily fetched token is fetched once), and a
		// credential that cannot get a token stops asking the token endpoint for this execution.
		const gate = new CredentialGate();
		const send = async (request: OutgoingRequest): Promise<Outcome & { answer?: HttpAnswer }> =>
			credentialType
				? await gate.run(
						async () => await sendOnce(request),
						(outcome) => (outcome.answer ? undefined : outcome.error),
						(error) => ({ error }),
					)
				: await sendOnce(request);

		const sent: INodeExecutionData[] = [];
		const skipped: INodeExecutionData[] = [];
		const results = await mapWithConcurrency(items, concurrency, async (item, itemIndex) => {
			const pairedItem = { item: itemIndex };
			try {
				let source: ItemProfile | undefined;
				if (config.settings.profileSource === 'lookup') {
					const property = String(this.getNodeParameter('lookupProperty', itemIndex, ''));
					const value = String(this.getNodeParameter('lookupValue', itemIndex, ''));
					const domainGroup = String(this.getNodeParameter('domainGroup', itemIndex, 'DEFAULT'));
					const match = await store.findByIdentifier(domainGroup || 'DEFAULT', property, value);
					if (!match.profile) {
						return {
							output: 1,
							json: {
								skipped: { code: 'NOT_FOUND', reason: `No profile has ${property} = "${value}"` },
							},
							pairedItem,
						};
					}
					source = { profile: match.profile };
				} else {
					source = profileFromItem(item.json);
					if (!source) {
						throw new NodeOperationError(
							node,
							'The input item is not a profile: connect a Profile Webhook Trigger, or pass items with "id" and "properties", or look profiles up in the store',
							{ itemIndex },
						);
					}
				}

				const prepared = await prepareDelivery(config, source, store, goalId);
				if (!prepared.send) {
					return {
						output: 1,
						json: {
							profileId: prepared.profile?.id ?? null,
							skipped: { code: prepared.decision.code, reason: prepared.decision.reason },
							profile: prepared.profile ?? null,
						} as unknown as IDataObject,
						pairedItem,
					};
				}

				const result = await sendWithRetries(() => send(prepared.request), {
					retries,
					baseDelayMs: 500,
					maxDelayMs: 30_000,
					jitter: 'full',
					// A wrong secret or a refused refresh token does not heal by waiting.
					isRetryableError: (error) => !findCredentialFailure(error),
				});
				const answer = (result as { answer?: HttpAnswer }).answer;
				const request = includeRequest ? { request: shownRequest(prepared.request) } : {};
				if (!answer || answer.status < 200 || answer.status >= 300) {
					const credentialFailure = answer ? undefined : findCredentialFailure(result.error);
					const message = answer
						? `The API answered ${answer.status}: ${serverMessage(answer)}`
						: credentialFailure && credentialType && CREDENTIAL_HELP[credentialType]
							? describeCredentialFailure(credentialFailure, {
									name: node.credentials?.[credentialType]?.name,
									...CREDENTIAL_HELP[credentialType],
								})
							: `The request failed: ${(result.error as Error)?.message ?? 'no answer'}`;
					const description = `${result.attempts} attempt${result.attempts > 1 ? 's' : ''}, ${prepared.request.method} ${shownRequest(prepared.request).url}`;
					const failure = new NodeApiError(
						node,
						{ message, ...(answer ? { httpCode: String(answer.status) } : {}) } as JsonObject,
						{ message, description, itemIndex, ...(answer ? { httpCode: String(answer.status) } : {}) },
					);
					if (!this.continueOnFail()) throw failure;
					return {
						output: 0,
						json: {
							profileId: prepared.profile.id,
							error: {
								message,
								status: answer?.status ?? null,
								body: answer ? parseBody(answer.body) : null,
								attempts: result.attempts,
							},
							...request,
						} as unknown as IDataObject,
						pairedItem,
					};
				}

				const body = parseBody(answer.body);
				const completed = await completeDelivery(config, prepared, body, store, goalId);
				return {
					output: 0,
					json: {
						profileId: completed.profile.id,
						profile: completed.profile,
						changes: completed.changes,
						response: { status: answer.status, headers: answer.headers, body },
						attempts: result.attempts,
						...request,
					} as unknown as IDataObject,
					pairedItem,
				};
			} catch (error) {
				const wrapped =
					error instanceof NodeApiError || error instanceof NodeOperationError
						? error
						: new NodeOperationError(node, (error as Error).message, { itemIndex });
				if (!this.continueOnFail()) throw wrapped;
				return { output: 0, json: { error: { message: wrapped.message } }, pairedItem };
			}
		});

		for (const { output, ...item } of results) (output === 0 ? sent : skipped).push(item);
		return [sent, skipped];
	}
}
