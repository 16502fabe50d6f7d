/**
 * The store every node of this package reads and writes, chosen in this one function. Today it is
 * the process's shared engine over the embedded SQLite store; when the `profileStoreApi` credential
 * lands, the selection reads it here (the context is passed for that).
 */
import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';

export async function profileEngineFor(_context: IExecuteFunctions | ILoadOptionsFunctions): Promise<ProfileEngine> {
	return getProfileEngine();
}
