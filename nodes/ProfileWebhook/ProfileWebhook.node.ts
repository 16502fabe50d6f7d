import {
	NodeApiError,
	NodeConnectionTypes,
	NodeOperationError,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type ILoadOptionsFunctions,
	type INodePropertyOptions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type JsonObject,
} from 'n8n-workflow';

import { ProfileWebhookApi } from '../../credentials/ProfileWebhookApi.credentials';
import { describeCredentialFailure, findCredentialFailure } from '../../lib/auth/credentialFailure';
import { noteRefusedAccessToken } from '../../lib/auth/refreshTokenExchange';
import {
	deliverItems,
	parseBody,
	type DeliveryResult,
	type HttpAnswer,
	type ItemSettings,
	type SendOutcome,
	type SendRequest,
} from '../../lib/outbound/delivery';
import { createAuthenticatedSend, type RequestAuth } from '../../lib/outbound/authenticatedSend';
import { createPooledClient, type EgressRules, type PooledClient } from '../../lib/outbound/httpClient';
import type { OutgoingRequest } from '../../lib/outbound/request';
import { getWebhookConfig, type WebhookSettings } from '../../lib/outbound/webhookConfig';
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { storeSelection } from '../shared/profileStore';
import { splitList } from '../../lib/lists';
import { configurationFailure } from '../shared/configurationError';
import { loadSegmentOptions } from '../shared/segmentOptions';
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
		renewWhat:
			'Open the credential and click Connect to connect the account again (if connecting fails, the popup window shows why).',
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


/** Every parameter of one item (an n8n expression in any of them is evaluated for that item). */
function readItemSettings(context: IExecuteFunctions, index: number): ItemSettings {
	const parameter = <T>(name: string, fallback: T): T => context.getNodeParameter(name, index, fallback) as T;
	const headers = parameter<{ header?: Array<{ name: string; value: string }> }>('headers', {});
	const mappings = parameter<{ mapping?: WebhookSettings['responseMappings'] }>('responseMappings', {});
	const method = String(parameter('method', 'POST'));
	const triggerOn = parameter<WebhookSettings['triggerOn']>('triggerOn', 'propertyChange');
	const profileSource = parameter<WebhookSettings['profileSource']>('profileSource', 'input');
	const settings: WebhookSettings = {
		profileSource,
		segments: splitList(parameter<unknown>('segments', [])),
		objectives: splitList(parameter('objectives', '')),
		triggerOn,
		triggerProperties: triggerOn === 'propertyChange' ? splitList(parameter('triggerProperties', '')) : [],
		triggerEvents: triggerOn === 'event' ? splitList(parameter('triggerEvents', '')) : [],
		method,
		url: String(parameter('url', '')),
		headers: (headers.header ?? []).map((h) => ({ name: String(h.name ?? ''), value: String(h.value ?? '') })),
		bodyFormat: method === 'GET' ? 'json' : parameter<WebhookSettings['bodyFormat']>('bodyFormat', 'json'),
		body: method === 'GET' ? '' : String(parameter('body', '')),
		responseMappings: (mappings.mapping ?? []).map((m) => ({
			path: String(m.path ?? ''),
			property: String(m.property ?? ''),
			mode: String(m.mode ?? 'set'),
		})),
	};
	const options = parameter<IDataObject>('options', {});
	let config;
	try {
		config = getWebhookConfig(settings);
	} catch (error) {
		throw configurationFailure(context.getNode(), error);
	}
	return {
		config,
		lookup:
			profileSource === 'lookup'
				? {
						property: String(parameter('lookupProperty', '')),
						value: String(parameter('lookupValue', '')),
						domainGroup: String(parameter('domainGroup', 'DEFAULT')),
					}
				: undefined,
		identifierProperty: String(options.identifierProperty ?? 'email').trim() || 'email',
		retries: Math.max(0, Math.floor(Number(options.retries ?? 3))),
		timeoutMs: Math.max(1, Number(options.timeout ?? 10000)),
		includeRequest: Boolean(options.includeRequest),
	};
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

function serverMessage(answer: HttpAnswer): string {
	const body = parseBody(answer.body);
	if (body && typeof body === 'object') {
		const b = body as Record<string, unknown>;
		const message = b.message ?? b.error_description ?? b.error ?? b.detail;
		if (message !== undefined) return typeof message === 'string' ? message : JSON.stringify(message);
	}
	return typeof body === 'string' && body ? body.slice(0, 500) : `HTTP ${answer.status}`;
}

/**
 * The credential's authentication for pooled requests, read once per execution (and again after
 * n8n's helper renewed a token). API key: the credential type's own `authenticate()`. OAuth2: the
 * access token n8n stored. Undefined while there is no usable token: the helper fetches one.
 */
async function loadRequestAuth(
	credentialType: string,
	credentials: ICredentialDataDecryptedObject,
): Promise<RequestAuth | undefined> {
	const bearer = (token: unknown, expiresAt?: number): RequestAuth | undefined =>
		typeof token === 'string' && token
			? { headers: { Authorization: `Bearer ${token}` }, query: {}, token, expiresAt }
			: undefined;
	switch (credentialType) {
		case 'profileWebhookApi': {
			const authenticated = await new ProfileWebhookApi().authenticate(credentials, {
				url: '',
				headers: {},
				qs: {},
			});
			return {
				headers: (authenticated.headers ?? {}) as Record<string, string>,
				query: (authenticated.qs ?? {}) as Record<string, string>,
			};
		}
		case 'profileWebhookRefreshTokenOAuth2Api': {
			const expiresAt = Number(credentials.expiresAt) || 0;
			// Its preAuthentication refreshes ahead of expiry: an expiring token goes through the helper.
			if (expiresAt && Date.now() >= expiresAt) return undefined;
			return bearer(credentials.accessToken, expiresAt || undefined);
		}
		default:
			return bearer((credentials.oauthTokenData as IDataObject | undefined)?.access_token);
	}
}

function withQuery(url: string, query: Record<string, string>): string {
	const entries = Object.entries(query);
	if (!entries.length) return url;
	const parsed = new URL(url);
	for (const [name, value] of entries) parsed.searchParams.append(name, value);
	return parsed.toString();
}

/** n8n's SSRF rules for our own connections (a passthrough when n8n's protection is off). */
function egressRules(context: IExecuteFunctions): EgressRules {
	let filter;
	try {
		filter = context.helpers.getSecureEgressFilter?.();
	} catch {
		return {};
	}
	if (!filter) return {};
	return {
		lookup: filter.createSecureLookup(),
		checkHost: (host) => {
			const result = filter.validateConnectionHost(host) as { ok: boolean; error?: unknown };
			if (!result.ok) throw result.error;
		},
	};
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
			// Optional: which profile store (embedded SQLite without it).
			{ name: 'profileStoreApi', required: false },
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

	methods = {
		loadOptions: {
			async getSegments(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				return await loadSegmentOptions(this, { includeBuiltIn: true });
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const node = this.getNode();
		if (items.length === 0) return [[], []];
		// Execution-wide: how many requests in flight, and who authenticates them.
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const concurrency = Math.max(1, Math.floor(Number(options.concurrency ?? 5)));
		const authentication = String(this.getNodeParameter('authentication', 0, 'none'));
		const credentialType = CREDENTIAL_TYPES[authentication];
		const credentialName = credentialType ? node.credentials?.[credentialType]?.name : undefined;
		const manual = this.getMode() === 'manual';
		let store: ProfileEngine;
		try {
			store = getProfileEngine(await storeSelection(this));
		} catch (error) {
			throw configurationFailure(node, error, 'profile store');
		}

		if (credentialType === 'profileWebhookOAuth2Api') {
			// n8n gives every OAuth2 credential `oauthTokenData: {}` until its account is connected.
			const credentials = await this.getCredentials(credentialType);
			const tokens = credentials.oauthTokenData as IDataObject | undefined;
			if (!tokens?.access_token) {
				throw new NodeOperationError(
					node,
					`The credential "${credentialName ?? 'Profile Webhook OAuth2 API'}" is not connected: connect the account first`,
					{
						description:
							'Open the credential and click Connect, then sign in at the authorization server. If connecting fails, the popup window shows the error (the credential dialog does not). Nothing was sent.',
					},
				);
			}
		}

		// Through n8n's helper: its credential authentication, token fetch and refresh (one connection
		// per request). Used for token credentials when there is no usable token yet, and after a 401.
		const viaHelper = async (request: OutgoingRequest, timeoutMs: number): Promise<SendOutcome> => {
			const requestOptions: IHttpRequestOptions = {
				method: request.method,
				url: request.url,
				headers: { ...request.headers },
				body: request.body,
				json: false,
				returnFullResponse: true,
				timeout: timeoutMs,
			};
			try {
				const response = (await this.helpers.httpRequestWithAuthentication.call(
					this,
					credentialType as string,
					requestOptions,
				)) as { statusCode: number; headers: HttpAnswer['headers']; body: unknown };
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

		let client: PooledClient | undefined;
		const pooled = async (
			request: OutgoingRequest,
			auth: RequestAuth | undefined,
			timeoutMs: number,
		): Promise<SendOutcome> => {
			client ??= createPooledClient({ maxSockets: concurrency, ...egressRules(this) });
			try {
				const answer = await client.send(
					{
						method: request.method,
						url: withQuery(request.url, auth?.query ?? {}),
						headers: { ...request.headers, ...auth?.headers },
						body: request.body,
					},
					{ timeoutMs, signal: this.getExecutionCancelSignal?.() },
				);
				return { status: answer.status, headers: answer.headers, answer };
			} catch (error) {
				return { error };
			}
		};

		const send: SendRequest = credentialType
			? createAuthenticatedSend({
					renewal:
						credentialType === 'profileWebhookApi'
							? 'none'
							: credentialType === 'profileWebhookRefreshTokenOAuth2Api'
								? 'refusedThenHelper'
								: 'n8nRefresh',
					readAuth: async () =>
						await loadRequestAuth(credentialType, await this.getCredentials(credentialType)),
					pooled,
					viaHelper,
					renewToken: async () => {
						await this.helpers.refreshOAuth2Token.call(this, credentialType);
					},
					noteRefused: noteRefusedAccessToken,
				})
			: async (request, { timeoutMs }) => await pooled(request, undefined, timeoutMs);

		const toOutput = (result: DeliveryResult): INodeExecutionData & { output: 0 | 1 } => {
			const pairedItem = { item: result.index };
			const itemIndex = result.index;
			switch (result.kind) {
				case 'skipped':
					return {
						output: 1,
						json: {
							profileId: result.profileId,
							skipped: result.skipped,
							profile: result.profile ?? null,
						} as unknown as IDataObject,
						pairedItem,
					};
				case 'error': {
					const error = result.error;
					const wrapped =
						error instanceof NodeApiError || error instanceof NodeOperationError
							? error
							: new NodeOperationError(node, error.message, { itemIndex });
					if (!this.continueOnFail()) throw wrapped;
					return { output: 0, json: { error: { message: wrapped.message } }, pairedItem };
				}
				case 'failed': {
					const { answer } = result;
					const credentialFailure = answer ? undefined : findCredentialFailure(result.error);
					const message = answer
						? `The API answered ${answer.status}: ${serverMessage(answer)}`
						: credentialFailure && credentialType && CREDENTIAL_HELP[credentialType]
							? describeCredentialFailure(credentialFailure, {
									name: credentialName,
									...CREDENTIAL_HELP[credentialType],
								})
							: `The request failed: ${(result.error as Error)?.message ?? 'no answer'}`;
					const description = `${result.attempts} attempt${result.attempts > 1 ? 's' : ''}, ${result.request.method} ${result.request.url}`;
					const httpCode = answer ? { httpCode: String(answer.status) } : {};
					if (!this.continueOnFail()) {
						throw new NodeApiError(node, { message, ...httpCode } as JsonObject, {
							message,
							description,
							itemIndex,
							...httpCode,
						});
					}
					return {
						output: 0,
						json: {
							profileId: result.profileId,
							error: {
								message,
								status: answer?.status ?? null,
								body: answer ? parseBody(answer.body) : null,
								attempts: result.attempts,
							},
							...(result.includeRequest ? { request: result.request } : {}),
						} as unknown as IDataObject,
						pairedItem,
					};
				}
				case 'sent': {
					if (result.mappingError && !this.continueOnFail()) {
						throw new NodeOperationError(
							node,
							`The API answered ${result.response.status} and the request counts as sent, but mapping the response failed: ${result.mappingError.message}`,
							{ itemIndex },
						);
					}
					return {
						output: 0,
						json: {
							profileId: result.profileId,
							profile: result.profile,
							changes: result.changes,
							response: result.response,
							attempts: result.attempts,
							...(result.request ? { request: result.request } : {}),
							...(result.mappingError
								? { error: { message: `Mapping the response failed: ${result.mappingError.message}` } }
								: {}),
						} as unknown as IDataObject,
						pairedItem,
					};
				}
			}
		};

		const sent: INodeExecutionData[] = [];
		const skipped: INodeExecutionData[] = [];
		try {
			const results = await deliverItems(
				items.map((item) => item.json),
				(index) => readItemSettings(this, index),
				{
					store,
					goalId: `${this.getWorkflow().id ?? 'workflow'}:${node.id}`,
					manual,
					send,
					concurrency,
					// A cancelled execution stops waiting between retries too.
					retryTiming: { signal: this.getExecutionCancelSignal?.() },
					// A wrong secret or a refused refresh token does not heal by waiting.
					isRetryableError: (error) => !findCredentialFailure(error),
				},
				toOutput,
			);
			for (const { output, ...item } of results) (output === 0 ? sent : skipped).push(item);
		} finally {
			client?.close();
		}
		return [sent, skipped];
	}
}
