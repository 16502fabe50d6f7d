/**
 * Part 7: the Profile Change Trigger's commit-to-execution latency, and Profiles search and segment
 * re-evaluation over 100,000 profiles with peak memory. They need issues 13 and 14 (the Profiles
 * node's search and segments, the Profile Change Trigger); until their modules are in dist/ this
 * part says so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { unavailable } from '../lib/measure.mjs';

export async function run({ dist }) {
	const changeTrigger = join(dist, 'nodes', 'ProfileChangeTrigger', 'ProfileChangeTrigger.node.js');
	const profilesNode = join(dist, 'nodes', 'Profiles', 'Profiles.node.js');
	const rows = [];
	const missing = (what) => `not available yet: ${what} is not in dist/`;
	rows.push(
		existsSync(changeTrigger)
			? unavailable({ id: '7.latency', part: '7 change trigger', name: 'commit-to-execution latency', reason: 'the change trigger exists but this part is not wired to it yet' })
			: unavailable({ id: '7.latency', part: '7 change trigger', name: 'commit-to-execution latency', reason: missing('the Profile Change Trigger (issue 14)') }),
	);
	for (const [id, name] of [
		['7.search', 'Profiles search over 100,000 profiles (peak memory)'],
		['7.segments', 'segment re-evaluation over 100,000 profiles (peak memory)'],
	]) {
		rows.push(
			existsSync(profilesNode)
				? unavailable({ id, part: '7 profiles', name, reason: 'the Profiles node exists but this part is not wired to it yet' })
				: unavailable({ id, part: '7 profiles', name, reason: missing('the Profiles node with search and segments (issue 13)') }),
		);
	}
	return { rows, notes: [] };
}
