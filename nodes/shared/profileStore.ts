/**
 * The store every node of this package reads and writes, chosen here: the optional
 * `profileStoreApi` credential (embedded SQLite without it). Each node lists the credential as
 * `{ name: 'profileStoreApi', required: false }` (a literal: n8n's lint rules read it).
 */
import type {
	IExecuteFunctions,
	IHookFunctions,
	ILoadOptionsFunctions,
	ITriggerFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';

import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine, storeSelectionFromCredential, type StoreSelection } from '../../lib/store/registry';

export const PROFILE_STORE_CREDENTIAL = 'profileStoreApi';

type NodeContext = IExecuteFunctions | IHookFunctions | ILoadOptionsFunctions | ITriggerFunctions | IWebhookFunctions;

/** The store this node was given: the credential when one is selected, else the embedded default. */
export async function storeSelection(context: NodeContext): Promise<StoreSelection> {
	if (!context.getNode().credentials?.[PROFILE_STORE_CREDENTIAL]) return { kind: 'embedded' };
	const data = await context.getCredentials(PROFILE_STORE_CREDENTIAL);
	return storeSelectionFromCredential(data as Record<string, unknown>);
}

/** The process's shared engine over the selected store (refusals as ProfileWebhookError). */
export async function profileEngineFor(context: NodeContext): Promise<ProfileEngine> {
	return getProfileEngine(await storeSelection(context));
}
