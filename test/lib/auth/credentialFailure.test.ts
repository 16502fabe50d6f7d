/**
 * Credential failures as n8n-core actually reports them: @n8n/client-oauth2's AuthError wrapped
 * by n8n-core and then by httpRequestWithAuthentication, n8n-core's "needs to be reconnected"
 * error, and the API's own refusals (which are not credential failures).
 */
import { AuthError } from '@n8n/client-oauth2';
import { NodeApiError, NodeOperationError, OperationalError, type INode, type JsonObject } from 'n8n-workflow';

import { describeCredentialFailure, findCredentialFailure } from '../../../lib/auth/credentialFailure';
import { RefreshTokenError } from '../../../lib/auth/refreshTokenExchange';

const node: INode = {
	id: 'n',
	name: 'Profile Webhook',
	type: 'n8n-nodes-profile-webhooks.profileWebhook',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

describe('findCredentialFailure', () => {
	it('finds the token endpoint OAuth error under n8n-core and node wrappers', () => {
		const authError = new AuthError('Client authentication failed (e.g., unknown client, ...)', {
			error: 'invalid_client',
			error_description: 'client authentication failed',
		});
		const acquired = new OperationalError(`Failed to acquire OAuth2 access token: ${authError.message}`, { cause: authError });
		const wrapped = new NodeApiError(node, acquired as unknown as JsonObject);
		expect(findCredentialFailure(wrapped)).toEqual({
			oauthError: 'invalid_client',
			detail: 'client authentication failed',
			reconnect: false,
		});
	});

	it('takes n8n-core reconnect errors as needing the user', () => {
		const reconnect = new NodeOperationError(node, 'The credential "CRM" needs to be reconnected.', {
			failure: { cause: 'credential-invalid' },
		} as ConstructorParameters<typeof NodeOperationError>[2]);
		expect(findCredentialFailure(new NodeApiError(node, reconnect as unknown as JsonObject))).toMatchObject({ reconnect: true });
		const noRefresh = new Error('OAuth access token expired and no refresh token is available. Please reconnect the credentials.');
		expect(findCredentialFailure(new NodeApiError(node, noRefresh as unknown as JsonObject))).toMatchObject({ reconnect: true });
	});

	it('finds a refused refresh token from the refresh-token credential', () => {
		const refused = new RefreshTokenError('refused', 'invalid_grant', 400, 'grant request is invalid');
		expect(findCredentialFailure(new NodeApiError(node, refused as unknown as JsonObject))).toEqual({
			oauthError: 'invalid_grant',
			detail: 'grant request is invalid',
			reconnect: true,
		});
	});

	it('an API refusal or a network error is not a credential failure', () => {
		const apiRefusal = Object.assign(new Error('Request failed with status code 401'), {
			response: { status: 401, data: { error: 'invalid_token' } },
		});
		expect(findCredentialFailure(new NodeApiError(node, apiRefusal as unknown as JsonObject))).toBeUndefined();
		expect(findCredentialFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
		expect(findCredentialFailure(undefined)).toBeUndefined();
	});
});

describe('describeCredentialFailure', () => {
	const help = { typeDisplayName: 'Profile Webhook Refresh Token OAuth2 API', renewWhat: 'Renew the refresh token.' };

	it('names the credential, says what the token endpoint answered and what to do', () => {
		expect(
			describeCredentialFailure({ oauthError: 'invalid_grant', detail: 'grant request is invalid', reconnect: true }, { name: 'CRM', ...help }),
		).toBe(
			'The credential "CRM" (Profile Webhook Refresh Token OAuth2 API) could not get an access token (invalid_grant: grant request is invalid). The refresh token (or authorization) is no longer valid: it expired, was revoked or was used after rotation. Renew the refresh token.',
		);
	});

	it('falls back to the credential type when the node has no credential name', () => {
		expect(describeCredentialFailure({ oauthError: 'invalid_client', detail: 'x', reconnect: false }, help)).toMatch(
			/^The credential of type "Profile Webhook Refresh Token OAuth2 API" could not get an access token \(invalid_client: x\)\. The token endpoint refused the client/,
		);
	});
});
