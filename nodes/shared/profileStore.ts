import type { IExecuteFunctions, IHookFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

import { storeSelectionFromCredential, type StoreSelection } from '../../lib/store/registry';

/**
 * The optional credential that chooses the profile store (embedded SQLite without it). Each node
 * lists it as `{ name: 'profileStoreApi', required: false }` (a literal: n8n's lint rules read it).
 */
export const PROFILE_STORE_CREDENTIAL = 'profileStoreApi';

type NodeContext = IExecuteFunctions | IHookFunctions | ITriggerFunctions | IWebhookFunctions;

/** The store this node was given: the credential when one is selected, else the embedded default. */
export async function storeSelection(context: NodeContext): Promise<StoreSelection> {
	if (!context.getNode().credentials?.[PROFILE_STORE_CREDENTIAL]) return { kind: 'embedded' };
	const data = await context.getCredentials(PROFILE_STORE_CREDENTIAL);
	return storeSelectionFromCredential(data as Record<string, unknown>);
}
