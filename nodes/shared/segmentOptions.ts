import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { profileEngineFor } from './profileStore';

/** The defined segments, for a segment picker (`All Visitors` first, then by name). */
export async function loadSegmentOptions(
	context: ILoadOptionsFunctions,
	{ includeBuiltIn }: { includeBuiltIn: boolean },
): Promise<INodePropertyOptions[]> {
	const segments = await (await profileEngineFor(context)).listSegments();
	return segments
		.filter((segment) => includeBuiltIn || !segment.builtIn)
		.map((segment) => ({
			name: segment.name,
			value: segment.name,
			...(segment.description ? { description: segment.description } : {}),
		}));
}
