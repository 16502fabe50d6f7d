/**
 * Runs this package's nodes inside n8n-core's real execution contexts.
 *
 * - `startWebhookNode` serves a trigger node on 127.0.0.1 the way n8n 2.x does: an express 5 app with
 *   the extended query parser and `trust proxy` set from the proxy hops, n8n's own
 *   `parseIncomingMessage` and the same body parsing rules as n8n's `parseBody`, then a fresh real
 *   `Workflow` and a real `WebhookContext` per request and the node's `webhook()`.
 * - `runExecuteNode` runs an action node's `execute()` in a real `ExecuteContext`.
 *
 * What n8n's server would hold in its database (credentials) comes from an in-memory
 * `TestCredentialsHelper`: the one part of n8n that cannot run without the n8n server itself.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { randomUUID } from 'node:crypto';

import express from 'express';
import { parseIncomingMessage } from '@n8n/backend-network';
import { ExecuteContext, HookContext, LoadOptionsContext, TriggerContext, WebhookContext } from 'n8n-core';
import {
	createRunExecutionData,
	ICredentialsHelper,
	jsonParse,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentials,
	type IDataObject,
	type ICredentialType,
	type IExecuteData,
	type IHttpRequestHelper,
	type IHttpRequestOptions,
	type INode,
	type INodeCredentials,
	type INodeCredentialsDetails,
	type INodeExecutionData,
	type INodeParameters,
	type INodeProperties,
	type INodePropertyOptions,
	type INodeType,
	type INodeTypes,
	type IRequestOptionsSimplified,
	type IRun,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IWebhookData,
	type IWebhookDescription,
	type IWorkflowExecuteAdditionalData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

export interface TestCredential {
	type: string;
	id?: string;
	name?: string;
	data: ICredentialDataDecryptedObject;
}

/** The credential store of an n8n server, in memory: decrypted data by credential id. */
export class TestCredentialsHelper extends ICredentialsHelper {
	readonly byId = new Map<string, TestCredential>();
	readonly updates: Array<{ id: string; data: ICredentialDataDecryptedObject }> = [];

	constructor(private readonly types: ICredentialType[] = []) {
		super();
	}

	add(credential: TestCredential): INodeCredentialsDetails {
		const id = credential.id ?? randomUUID();
		const name = credential.name ?? `${credential.type} ${id.slice(0, 8)}`;
		this.byId.set(id, { ...credential, id, name });
		return { id, name };
	}

	getParentTypes(name: string): string[] {
		const type = this.types.find((t) => t.name === name);
		const parents = type?.extends ?? [];
		return parents.flatMap((parent) => [parent, ...this.getParentTypes(parent)]);
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	/** As n8n's CredentialsHelper.authenticate: a function, or generic properties with expressions. */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		incoming: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		const requestOptions = incoming as IHttpRequestOptions;
		const type = this.types.find((t) => t.name === typeName);
		const authenticate = type?.authenticate;
		if (typeof authenticate === 'function') {
			return await authenticate(credentials, requestOptions);
		}
		if (authenticate?.type === 'generic') {
			if (!workflow || !node) throw new Error('generic authentication needs the workflow and node');
			const resolve = (value: unknown) =>
				typeof value === 'string' && value.startsWith('=')
					? String(
							workflow.expression.getSimpleParameterValue(
								node,
								value,
								'internal',
								{ $credentials: credentials },
								undefined,
								'',
							) ?? '',
						)
					: value;
			const target = requestOptions as unknown as Record<string, Record<string, unknown>>;
			for (const [outerKey, inner] of Object.entries(authenticate.properties)) {
				for (const [key, value] of Object.entries(inner as Record<string, unknown>)) {
					target[outerKey] ??= {};
					target[outerKey][String(resolve(key))] = resolve(value);
				}
			}
		}
		return requestOptions;
	}

	/**
	 * As n8n's CredentialsHelper.preAuthentication: runs the type's hook when its first hidden
	 * expirable property is empty or the request was refused, then persists what it returned.
	 */
	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.types.find((t) => t.name === typeName);
		const expirable = type?.properties.find(
			(p) => p.type === 'hidden' && p.typeOptions?.expirable === true,
		);
		if (!type?.preAuthentication || !expirable) return undefined;
		if (credentials[expirable.name] !== '' && !credentialsExpired) return undefined;
		const output = (await type.preAuthentication.call(
			helpers,
			credentials,
		)) as ICredentialDataDecryptedObject;
		if (output[expirable.name] === undefined) return undefined;
		const details = node.credentials?.[typeName];
		if (details) {
			const stored = this.byId.get(details.id ?? '');
			await this.updateCredentials(details, typeName, { ...(stored?.data ?? {}), ...output });
		}
		return Object.assign(credentials, output);
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.types.find((t) => t.name === typeName);
		if (typeof type?.preAuthentication !== 'function') return undefined;
		const output = await type.preAuthentication.call(helpers, credentials);
		return (output as ICredentialDataDecryptedObject | undefined) ?? undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new Error('getCredentials is not used by these nodes');
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const stored = nodeCredentials.id ? this.byId.get(nodeCredentials.id) : undefined;
		if (!stored || stored.type !== type) {
			throw new Error(`Credential of type "${type}" with id "${nodeCredentials.id}" does not exist`);
		}
		return structuredClone(stored.data);
	}

	async updateCredentials(
		nodeCredentials: INodeCredentialsDetails,
		_type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const stored = nodeCredentials.id ? this.byId.get(nodeCredentials.id) : undefined;
		if (stored) stored.data = structuredClone(data);
		this.updates.push({ id: nodeCredentials.id ?? '', data });
	}

	async updateCredentialsOauthTokenData(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		await this.updateCredentials(nodeCredentials, type, data);
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		return this.types.find((t) => t.name === type)?.properties ?? [];
	}
}

class SingleNodeTypes implements INodeTypes {
	constructor(
		private readonly type: string,
		private readonly nodeType: INodeType,
	) {}

	getByName(name: string): INodeType {
		if (name !== this.type) throw new Error(`Unknown node type ${name}`);
		return this.nodeType;
	}

	getByNameAndVersion(name: string): INodeType {
		return this.getByName(name);
	}

	getKnownTypes() {
		return {};
	}
}

export interface NodeUnderTest {
	nodeType: INodeType;
	parameters: INodeParameters;
	/** Credentials the node refers to, by credential type. */
	credentials?: TestCredential[];
	credentialTypes?: ICredentialType[];
	name?: string;
	typeVersion?: number;
	staticData?: IDataObject;
	/** The node's id (what outgoing "last sent" snapshots are keyed by). */
	nodeId?: string;
	/** The node's "On Error: Continue" setting. */
	continueOnFail?: boolean;
}

const PACKAGE = 'n8n-nodes-profile-webhooks';

function buildWorkflow(subject: NodeUnderTest, credentialsHelper: TestCredentialsHelper) {
	const description = subject.nodeType.description;
	const nodeCredentials: INodeCredentials = {};
	for (const credential of subject.credentials ?? []) {
		nodeCredentials[credential.type] = credentialsHelper.add(credential);
	}
	const typeName = `${PACKAGE}.${description.name}`;
	const node: INode = {
		id: subject.nodeId ?? 'node-under-test',
		...(subject.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		name: subject.name ?? description.defaults.name ?? description.displayName,
		type: typeName,
		typeVersion:
			subject.typeVersion ??
			(Array.isArray(description.version) ? Math.max(...description.version) : description.version),
		position: [0, 0],
		parameters: structuredClone(subject.parameters),
		credentials: nodeCredentials,
		webhookId: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff',
	};
	const workflow = new Workflow({
		id: 'wf-under-test',
		name: 'Workflow under test',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes: new SingleNodeTypes(typeName, subject.nodeType),
		staticData: structuredClone(subject.staticData ?? {}),
		settings: {},
	});
	// The Workflow constructor filled in parameter defaults, as n8n does when it loads a workflow.
	return { workflow, node: workflow.getNode(node.name) as INode };
}

function additionalDataFor(
	credentialsHelper: TestCredentialsHelper,
	baseUrl: string,
	extra: Partial<IWorkflowExecuteAdditionalData> = {},
): IWorkflowExecuteAdditionalData {
	const data: Partial<IWorkflowExecuteAdditionalData> = {
		credentialsHelper,
		currentNodeExecutionIndex: 0,
		restApiUrl: `${baseUrl}/rest`,
		instanceBaseUrl: `${baseUrl}/`,
		formBaseUrl: `${baseUrl}/form`,
		formWaitingBaseUrl: `${baseUrl}/form-waiting`,
		formTestBaseUrl: `${baseUrl}/form-test`,
		webhookBaseUrl: `${baseUrl}/webhook`,
		webhookWaitingBaseUrl: `${baseUrl}/webhook-waiting`,
		webhookTestBaseUrl: `${baseUrl}/webhook-test`,
		mcpBaseUrl: `${baseUrl}/mcp`,
		mcpTestBaseUrl: `${baseUrl}/mcp-test`,
		variables: {},
		executionId: randomUUID(),
		executeWorkflow: async () => {
			throw new Error('Sub-workflows are not part of these tests');
		},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		...extra,
	};
	// The remaining members are server services (push, hooks, secrets) these nodes never touch.
	return data as IWorkflowExecuteAdditionalData;
}

/** n8n's `parseBody` (packages/cli/src/middlewares/body-parser.ts), for a node of typeVersion 1. */
async function readAndParseBody(req: express.Request): Promise<void> {
	parseIncomingMessage(req);
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	const rawBody = Buffer.concat(chunks);
	req.rawBody = rawBody;
	req.readRawBody = async () => {};
	const { contentType } = req;
	const encoding = (req.encoding ?? 'utf-8') as BufferEncoding;
	const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
	if (contentType?.startsWith('multipart/')) {
		throw new ParseError(415, 'multipart bodies are not served by this test harness');
	}
	if (rawBody.length) {
		try {
			if (contentType === 'application/json') {
				req.body = jsonParse(stripBom(rawBody.toString(encoding)));
			} else if (contentType === 'application/x-www-form-urlencoded') {
				req.body = parseQueryString(stripBom(rawBody.toString(encoding)), undefined, undefined, {
					maxKeys: 1000,
				});
			} else if (contentType === 'text/plain') {
				req.body = rawBody.toString(encoding);
			}
		} catch (error) {
			throw new ParseError(422, 'Failed to parse request body', (error as Error).message);
		}
	}
	req.body ??= {};
}

class ParseError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly hint?: string,
	) {
		super(message);
	}
}

export interface RecordedExecution {
	mode: WorkflowExecuteMode;
	items: INodeExecutionData[][];
}

export interface WebhookNodeServer {
	/** Production URL of the node's default webhook, e.g. http://127.0.0.1:1234/webhook/path */
	url: string;
	/** The editor's test URL of the same webhook. */
	testUrl: string;
	baseUrl: string;
	/** Every execution a request started, in order. */
	executions: RecordedExecution[];
	credentialsHelper: TestCredentialsHelper;
	close(): Promise<void>;
}

export interface WebhookServerOptions extends NodeUnderTest {
	/** n8n's N8N_PROXY_HOPS. */
	proxyHops?: number;
}

function webhookPath(node: INode, workflow: Workflow, description: IWebhookDescription): string {
	const path = workflow.expression.getSimpleParameterValue(
		node,
		description.path,
		'internal',
		{},
	) as string;
	const trimmed = String(path).replace(/^\/+/, '');
	// As n8n's NodeHelpers.getNodeWebhookPath: an empty full path is the node's webhook id.
	return trimmed || (description.isFullPath ? (node.webhookId ?? '') : '');
}

/** Serves a trigger node's webhooks on 127.0.0.1, production and test URL alike. */
export async function startWebhookNode(options: WebhookServerOptions): Promise<WebhookNodeServer> {
	const credentialsHelper = new TestCredentialsHelper(options.credentialTypes);
	const descriptions = options.nodeType.description.webhooks ?? [];
	if (!descriptions.length || !options.nodeType.webhook) {
		throw new Error(`${options.nodeType.description.name} has no webhooks`);
	}
	const executions: RecordedExecution[] = [];
	const app = express();
	app.disable('x-powered-by');
	app.set('query parser', 'extended');
	if (options.proxyHops) app.set('trust proxy', options.proxyHops);

	let baseUrl = '';
	// Credentials are stored once, like credentials saved in n8n; the workflow is rebuilt per request.
	const { workflow: template, node: templateNode } = buildWorkflow(options, credentialsHelper);
	const credentials = templateNode.credentials;
	const paths = descriptions.map((d) => ({
		description: d,
		path: webhookPath(templateNode, template, d),
	}));

	app.use(async (req, res) => {
		const match = /^\/(webhook|webhook-test)\/(.*)$/.exec(req.path);
		const mode: WorkflowExecuteMode = match?.[1] === 'webhook-test' ? 'manual' : 'webhook';
		const requested = match?.[2]?.replace(/\/+$/, '');
		const candidates = paths.filter((p) => p.path === requested);
		const found = candidates.find((p) => {
			const methods = String(
				template.expression.getSimpleParameterValue(templateNode, p.description.httpMethod, mode, {}),
			)
				.split(',')
				.map((m) => m.trim().toUpperCase());
			return methods.includes(req.method);
		});
		if (!found) {
			res.status(404).json({ code: 404, message: `The requested webhook "${req.method} ${requested}" is not registered.` });
			return;
		}
		try {
			await readAndParseBody(req);
		} catch (error) {
			const e = error as ParseError;
			res.status(e.status ?? 500).json({ code: e.status, message: e.message, hint: e.hint });
			return;
		}

		const { workflow, node } = buildWorkflow({ ...options, credentials: [] }, credentialsHelper);
		node.credentials = credentials;
		const additionalData = additionalDataFor(credentialsHelper, baseUrl, {
			httpRequest: req,
			httpResponse: res,
		});
		const webhookData: IWebhookData = {
			httpMethod: req.method as IWebhookData['httpMethod'],
			node: node.name,
			path: found.path,
			webhookDescription: found.description,
			workflowId: workflow.id,
			workflowExecuteAdditionalData: additionalData,
			webhookId: node.webhookId,
		};
		const context = new WebhookContext(workflow, node, additionalData, mode, webhookData, [], null);
		try {
			const result = await options.nodeType.webhook!.call(context);
			if (result.noWebhookResponse) {
				if (result.workflowData) executions.push({ mode, items: result.workflowData });
				return;
			}
			if (result.workflowData === undefined) {
				// n8n answers this way when a webhook decides not to start an execution.
				res.status(200).json(result.webhookResponse ?? { message: 'Webhook call received' });
				return;
			}
			executions.push({ mode, items: result.workflowData });
			const responseMode = workflow.expression.getSimpleParameterValue(
				node,
				found.description.responseMode ?? 'onReceived',
				mode,
				{},
				undefined,
				'onReceived',
			);
			if (responseMode === 'lastNode') {
				// The node is the whole workflow here, so it is also the last node.
				res.status(200).json(result.workflowData[0]?.[0]?.json ?? {});
			} else {
				res.status(200).json(result.webhookResponse ?? { message: 'Workflow was started' });
			}
		} catch (error) {
			if (!res.headersSent) {
				res.status(500).json({ code: 500, message: (error as Error).message });
			}
		}
	});

	const server: Server = app.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address() as AddressInfo;
	baseUrl = `http://127.0.0.1:${port}`;
	const defaultPath = paths.find((p) => p.description.name === 'default')?.path ?? paths[0].path;
	return {
		url: `${baseUrl}/webhook/${defaultPath}`,
		testUrl: `${baseUrl}/webhook-test/${defaultPath}`,
		baseUrl,
		executions,
		credentialsHelper,
		close: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

export interface ExecuteRun {
	outputs: INodeExecutionData[][];
	credentialsHelper: TestCredentialsHelper;
}

/** Runs an action node's `execute()` once over `items` in a real `ExecuteContext`. */
export async function runExecuteNode(
	subject: NodeUnderTest & {
		items: INodeExecutionData[];
		mode?: WorkflowExecuteMode;
		credentialsHelper?: TestCredentialsHelper;
		/** Server services to stand in for, such as `sendDataToUI` (the editor's push channel). */
		additionalData?: Partial<IWorkflowExecuteAdditionalData>;
	},
): Promise<ExecuteRun> {
	const credentialsHelper =
		subject.credentialsHelper ?? new TestCredentialsHelper(subject.credentialTypes);
	const { workflow, node } = buildWorkflow(subject, credentialsHelper);
	const additionalData = additionalDataFor(credentialsHelper, 'http://127.0.0.1:5678', subject.additionalData);
	const inputData = { main: [subject.items] };
	const executeData: IExecuteData = { node, data: inputData, source: null };
	const runExecutionData = createRunExecutionData({
		executionData: { nodeExecutionStack: [executeData] },
	});
	const context = new ExecuteContext(
		workflow,
		node,
		additionalData,
		subject.mode ?? 'manual',
		runExecutionData,
		0,
		subject.items,
		inputData,
		executeData,
		[],
	);
	if (!subject.nodeType.execute) throw new Error(`${node.type} has no execute()`);
	const outputs = (await subject.nodeType.execute.call(context)) as INodeExecutionData[][];
	return { outputs, credentialsHelper };
}

/**
 * Runs one of a trigger's `webhookMethods` (checkExists, create, delete) in a real `HookContext`,
 * as n8n does when it activates a workflow or registers the editor's test webhook.
 */
export async function runWebhookMethod(
	subject: NodeUnderTest,
	method: 'checkExists' | 'create' | 'delete',
	mode: WorkflowExecuteMode = 'trigger',
): Promise<boolean> {
	const credentialsHelper = new TestCredentialsHelper(subject.credentialTypes);
	const { workflow, node } = buildWorkflow(subject, credentialsHelper);
	const additionalData = additionalDataFor(credentialsHelper, 'http://127.0.0.1:5678');
	const description = subject.nodeType.description.webhooks![0];
	const webhookData: IWebhookData = {
		httpMethod: 'POST',
		node: node.name,
		path: webhookPath(node, workflow, description),
		webhookDescription: description,
		workflowId: workflow.id,
		workflowExecuteAdditionalData: additionalData,
		webhookId: node.webhookId,
	};
	const context = new HookContext(workflow, node, additionalData, mode, 'activate', webhookData);
	const fn = subject.nodeType.webhookMethods?.default?.[method];
	if (!fn) throw new Error(`${node.type} has no webhookMethods.default.${method}`);
	return await fn.call(context);
}

/**
 * Runs one of a node's `methods.loadOptions` in a real `LoadOptionsContext`, as the editor does when
 * it fills a dropdown (`path` is the parameter being filled).
 */
export async function runLoadOptions(
	subject: NodeUnderTest,
	method: string,
	path = 'parameters',
): Promise<INodePropertyOptions[]> {
	const credentialsHelper = new TestCredentialsHelper(subject.credentialTypes);
	const { workflow, node } = buildWorkflow(subject, credentialsHelper);
	const additionalData = additionalDataFor(credentialsHelper, 'http://127.0.0.1:5678');
	const context = new LoadOptionsContext(workflow, node, additionalData, path);
	const fn = subject.nodeType.methods?.loadOptions?.[method];
	if (!fn) throw new Error(`${node.type} has no methods.loadOptions.${method}`);
	return await fn.call(context);
}

// ---------------------------------------------------------------------------------------------
// Trigger nodes (trigger()): a real TriggerContext, with emit recorded as n8n's trigger factory
// would receive it.
// ---------------------------------------------------------------------------------------------

type DonePromise = NonNullable<Parameters<ITriggerFunctions['emit']>[2]>;

/** One `emit()` call: the items, and the promise n8n resolves when the started execution is done. */
export interface TriggerEmit {
	items: INodeExecutionData[][];
	donePromise?: DonePromise;
	deduplicationKey?: string;
}

export interface ActiveTrigger {
	/** Every emit, in order. */
	emits: TriggerEmit[];
	/** Errors passed to emitError. */
	errors: Error[];
	response: ITriggerResponse;
	/** Resolves the done promise of every emit so far, as n8n does when their executions finish. */
	finishExecutions(): void;
	/** closeFunction, as n8n calls it on deactivation or shutdown. */
	close(): Promise<void>;
}

/**
 * Calls a trigger node's `trigger()` in a real `TriggerContext`, as n8n does on activation
 * (`mode` trigger, activation `activate`) or for the editor's test run (`mode` manual: then call
 * `response.manualTriggerFunction`).
 */
export async function activateTriggerNode(
	subject: NodeUnderTest & { mode?: WorkflowExecuteMode; workflowId?: string },
): Promise<ActiveTrigger> {
	const credentialsHelper = new TestCredentialsHelper(subject.credentialTypes);
	const { workflow, node } = buildWorkflow(subject, credentialsHelper);
	if (subject.workflowId) workflow.id = subject.workflowId;
	const additionalData = additionalDataFor(credentialsHelper, 'http://127.0.0.1:5678');
	const emits: TriggerEmit[] = [];
	const errors: Error[] = [];
	let finished = 0;
	const emit = (
		items: INodeExecutionData[][],
		_responsePromise?: unknown,
		donePromise?: DonePromise,
		deduplicationKey?: string,
	) => {
		emits.push({ items, donePromise, deduplicationKey });
	};
	const context = new TriggerContext(
		workflow,
		node,
		additionalData,
		subject.mode ?? 'trigger',
		'activate',
		emit,
		(error: Error) => errors.push(error),
		(error: Error) => errors.push(error),
	);
	if (!subject.nodeType.trigger) throw new Error(`${node.type} has no trigger()`);
	const response = (await subject.nodeType.trigger.call(context)) ?? {};
	return {
		emits,
		errors,
		response,
		finishExecutions() {
			for (; finished < emits.length; finished++) {
				emits[finished].donePromise?.resolve(undefined as unknown as IRun);
			}
		},
		close: async () => {
			await response.closeFunction?.();
		},
	};
}
