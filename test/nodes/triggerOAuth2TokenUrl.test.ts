/**
 * The Profile Webhook Trigger as its own authorization server: registered applications fetch
 * client_credentials tokens at `<webhook path>/oauth/token` (a third webhook of the node, in
 * n8n-core's real WebhookContext) and call the webhook with them.
 */
import { randomUUID } from 'node:crypto';

import type { ICredentialDataDecryptedObject, INodeParameters } from 'n8n-workflow';

import { ProfileWebhookApi } from '../../credentials/ProfileWebhookApi.credentials';
import { ProfileWebhookInboundOAuth2Api } from '../../credentials/ProfileWebhookInboundOAuth2Api.credentials';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { realClock, shiftClock, useShiftableClock } from '../helpers/clock';
import { runWebhookMethod, startWebhookNode, type TestCredential, type WebhookNodeServer } from '../helpers/n8n';

const CRM = { id: 'crm-platform', secret: `crm-${randomUUID()}` };
const BI = { id: 'bi-tool', secret: `bi-${randomUUID()}` };

const inbound = (extra: ICredentialDataDecryptedObject = {}): TestCredential => ({
	type: 'profileWebhookInboundOAuth2Api',
	data: {
		verification: 'registeredApplicationsOnly',
		registeredApplications: JSON.stringify([
			{ clientId: CRM.id, clientSecret: CRM.secret },
			{ clientId: BI.id, clientSecret: BI.secret, scopes: ['profile:read'] },
		]),
		tokenSigningSecret: `signing-${randomUUID()}`,
		tokenLifetimeSeconds: 300,
		requiredScopes: 'profile:write',
		clockSkewSeconds: 60,
		...extra,
	},
});

const parameters = (extra: INodeParameters = {}): INodeParameters => ({
	path: 'crm-sync',
	authentication: 'oAuth2',
	identifierProperty: 'email',
	createProfiles: true,
	mappings: { mapping: [{ field: '$.plan', property: 'plan', mode: 'set' }] },
	...extra,
});

const servers: WebhookNodeServer[] = [];
afterAll(async () => {
	await Promise.all(servers.map((s) => s.close()));
});

async function serve(credential: TestCredential, extra: INodeParameters = {}): Promise<WebhookNodeServer> {
	const server = await startWebhookNode({
		nodeType: new ProfileWebhookTrigger(),
		parameters: parameters(extra),
		credentials: [credential],
		credentialTypes: [new ProfileWebhookInboundOAuth2Api(), new ProfileWebhookApi()],
	});
	servers.push(server);
	return server;
}

interface Answer {
	status: number;
	headers: Headers;
	body: Record<string, unknown>;
}

async function requestToken(
	tokenUrl: string,
	client: { id: string; secret: string },
	how: 'basic' | 'post',
	form: Record<string, string> = { grant_type: 'client_credentials' },
): Promise<Answer> {
	const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
	const body = new URLSearchParams(form);
	if (how === 'basic') {
		headers.authorization = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
	} else {
		body.set('client_id', client.id);
		body.set('client_secret', client.secret);
	}
	const res = await fetch(tokenUrl, { method: 'POST', headers, body: body.toString() });
	return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function callWebhook(server: WebhookNodeServer, token: string, email = `t-${randomUUID().slice(0, 8)}@example.test`) {
	const res = await fetch(`${server.url}?property=email&email=${encodeURIComponent(email)}`, {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: JSON.stringify({ plan: 'gold' }),
	});
	return {
		status: res.status,
		wwwAuthenticate: res.headers.get('www-authenticate'),
		body: (await res.json()) as Record<string, unknown>,
		email,
	};
}

describe('Trigger OAuth2: the token URL under the webhook path', () => {
	let server: WebhookNodeServer;
	let tokenUrl: string;
	beforeAll(async () => {
		server = await serve(inbound());
		tokenUrl = `${server.url}/oauth/token`;
	});

	it.each(['basic', 'post'] as const)(
		'issues a token to a client authenticating by %s, and the webhook accepts it',
		async (how) => {
			const answer = await requestToken(tokenUrl, CRM, how);
			expect(answer.status).toBe(200);
			expect(answer.headers.get('cache-control')).toBe('no-store');
			expect(answer.body).toEqual({
				access_token: expect.any(String),
				token_type: 'Bearer',
				expires_in: 300,
				scope: 'profile:write',
			});
			const token = answer.body.access_token as string;
			const executions = server.executions.length;
			const call = await callWebhook(server, token);
			expect(call.status).toBe(200);
			expect(call.body).toEqual({ state: 'CREATED', profileId: expect.any(String) });
			const stored = await getProfileEngine().findByIdentifier('DEFAULT', 'email', call.email);
			expect(stored.profile?.properties.plan).toEqual(['gold']);
			expect(server.executions).toHaveLength(executions + 1);
			expect(JSON.stringify(server.executions.at(-1))).not.toContain(token);
		},
	);

	it('answers 401 invalid_client with a Basic challenge for a wrong secret, by either method', async () => {
		for (const how of ['basic', 'post'] as const) {
			const answer = await requestToken(tokenUrl, { id: CRM.id, secret: `${CRM.secret}-wrong` }, how);
			expect(answer.status).toBe(401);
			expect(answer.headers.get('www-authenticate')).toBe('Basic realm="profile-webhook"');
			expect(answer.body).toEqual({
				error: 'invalid_client',
				error_description: 'Client authentication failed: unknown client or wrong secret',
			});
		}
	});

	it('answers 400 unsupported_grant_type and 400 invalid_scope per RFC 6749', async () => {
		const grant = await requestToken(tokenUrl, CRM, 'basic', { grant_type: 'authorization_code', code: 'x' });
		expect(grant.status).toBe(400);
		expect(grant.body.error).toBe('unsupported_grant_type');
		const scope = await requestToken(tokenUrl, CRM, 'basic', { grant_type: 'client_credentials', scope: 'profile:erase' });
		expect(scope.status).toBe(400);
		expect(scope.body.error).toBe('invalid_scope');
	});

	it('issues an application only its own scopes: a read-only client cannot write (403)', async () => {
		const answer = await requestToken(tokenUrl, BI, 'basic');
		expect(answer.body.scope).toBe('profile:read');
		const call = await callWebhook(server, answer.body.access_token as string);
		expect(call.status).toBe(403);
		expect(call.wwwAuthenticate).toContain('error="insufficient_scope"');
		expect(call.wwwAuthenticate).toContain('scope="profile:write"');
		expect(call.body.error).toEqual({ code: 'FORBIDDEN', message: 'The access token lacks the required scope: profile:write' });
		expect((await getProfileEngine().findByIdentifier('DEFAULT', 'email', call.email)).profile).toBeUndefined();
	});

	it("serves the editor's test URL too, and its tokens work at the production URL", async () => {
		const answer = await requestToken(`${server.testUrl}/oauth/token`, CRM, 'basic');
		expect(answer.status).toBe(200);
		expect((await callWebhook(server, answer.body.access_token as string)).status).toBe(200);
	});

	it('binds tokens to the webhook path: another trigger with the same credential refuses them', async () => {
		const credential = inbound();
		const first = await serve(credential);
		const second = await serve(credential, { path: 'other-sync' });
		const token = (await requestToken(`${first.url}/oauth/token`, CRM, 'basic')).body.access_token as string;
		expect((await callWebhook(first, token)).status).toBe(200);
		const refused = await callWebhook(second, token);
		expect(refused.status).toBe(401);
		expect(refused.wwwAuthenticate).toContain('error="invalid_token"');
		expect((refused.body.error as { message: string }).message).toMatch(/crm-sync.*not for .*other-sync.*wrong audience/);
	});

	it('refuses its tokens once they expire', async () => {
		const short = await serve(inbound({ tokenLifetimeSeconds: 1, clockSkewSeconds: 0 }), { path: 'short-lived' });
		useShiftableClock();
		try {
			const token = (await requestToken(`${short.url}/oauth/token`, CRM, 'basic')).body.access_token as string;
			expect((await callWebhook(short, token)).status).toBe(200);
			shiftClock(2100);
			const expired = await callWebhook(short, token);
			expect(expired.status).toBe(401);
			expect((expired.body.error as { message: string }).message).toMatch(/^The access token expired at /);
		} finally {
			realClock();
		}
	});

	it('applies the IP allowlist to the token URL', async () => {
		const guarded = await serve(inbound(), { path: 'guarded', options: { ipAllowlist: '10.0.0.0/8' } });
		const answer = await requestToken(`${guarded.url}/oauth/token`, CRM, 'basic');
		expect(answer.status).toBe(403);
		expect(answer.body).toEqual({
			error: { code: 'FORBIDDEN', message: 'The address 127.0.0.1 is not allowed to call this webhook' },
		});
	});

	it('is a 404 without registered applications, and without OAuth2', async () => {
		const noApps = await serve(
			inbound({ verification: 'jwt', issuer: 'https://auth.example.test/', audience: 'urn:x', jwksUrl: 'https://auth.example.test/jwks', registeredApplications: '' }),
			{ path: 'no-apps' },
		);
		const answer = await requestToken(`${noApps.url}/oauth/token`, CRM, 'basic');
		expect(answer.status).toBe(404);
		expect(answer.body.error).toBe('not_found');
		const apiKey = await serve(
			{ type: 'profileWebhookApi', data: { apiKey: 'k'.repeat(20), headerName: 'X-API-Key' } },
			{ path: 'api-key', authentication: 'apiKey' },
		);
		expect((await requestToken(`${apiKey.url}/oauth/token`, CRM, 'basic')).status).toBe(404);
	});

	it('answers 500 naming the problem when the credential is not usable', async () => {
		const broken = await serve(inbound({ tokenSigningSecret: 'short' }), { path: 'broken' });
		const answer = await requestToken(`${broken.url}/oauth/token`, CRM, 'basic');
		expect(answer.status).toBe(500);
		expect(answer.body.error).toEqual({
			code: 'CONFIGURATION_INVALID',
			message: 'Token Signing Secret: must be at least 32 characters (256 bits for HS256)',
			issues: [{ target: 'Token Signing Secret', message: 'must be at least 32 characters (256 bits for HS256)' }],
		});
	});
});

describe('Trigger OAuth2: activation', () => {
	const activate = (credential: TestCredential) =>
		runWebhookMethod(
			{
				nodeType: new ProfileWebhookTrigger(),
				parameters: parameters(),
				credentials: [credential],
				credentialTypes: [new ProfileWebhookInboundOAuth2Api()],
			},
			'checkExists',
		);

	it('activates with a usable credential', async () => {
		await expect(activate(inbound())).resolves.toBe(true);
	});

	it('refuses to activate with an unusable credential, listing every problem', async () => {
		await expect(
			activate(inbound({ verification: 'jwt', issuer: '', audience: '', jwksUrl: '', tokenSigningSecret: 'short' })),
		).rejects.toThrow(
			'Invalid OAuth2 credential: Issuer: is required for JWT access tokens; Audience: is required for JWT access tokens (otherwise any token of that issuer, for any API, would pass); JWKS URL: is required; Token Signing Secret: must be at least 32 characters (256 bits for HS256)',
		);
	});
});
