import { NodeOperationError, type INode } from 'n8n-workflow';

import { ProfileWebhookError } from '../../lib/errors';

/** An engine configuration error as n8n shows it: the summary, then one line per issue. */
export function configurationFailure(
	node: INode,
	error: unknown,
	what = 'configuration',
): unknown {
	if (!(error instanceof ProfileWebhookError)) return error;
	return new NodeOperationError(node, `Invalid ${what}: ${error.message}`, {
		description: error.issues.map((i) => `${i.target}: ${i.message}`).join('\n'),
	});
}
