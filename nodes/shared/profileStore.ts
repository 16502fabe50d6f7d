import type { IExecuteFunctions, IHookFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

import { storeSelectionFromCredential, type StoreSelection } from '../../lib/store/registry';

/** The optional credential that chooses the profile store (embedded SQLite without it). */
export const PROFILE_STORE_CREDENTIAL = 'profileStoreApi';

export const profileStoreCredential = { name: PROFILE_STORE_CREDENTIAL, required: false };

type NodeContext = IExecuteFunctions | IHookFunctions | ITriggerFunctions | IWebhookFunctions;

/** The store this node was given: the credential when one is selected, else the embedded default. */
export async function storeSelection(context: NodeContext): Promise<StoreSelection> {
	if (!context.getNode().credentials?.[PROFILE_STORE_CREDENTIAL]) return { kind: 'embedded' };
	const data = await context.getCredentials(PROFILE_STORE_CREDENTIAL);
	return storeSelectionFromCredential(data as Record<string, unknown>);
}
