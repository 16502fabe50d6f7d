/**
 * Part 4: outgoing requests through the Profile Webhook node (a real ExecuteContext) against a bare
 * fetch loop, at concurrency 1 and 8. The measurement itself is bench/outbound.js (its own issue);
 * until it exists this part reports itself as not available.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { row, unavailable } from '../lib/measure.mjs';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'outbound.js');

/** A figure from runOutboundBench: a number, or an object carrying a median or a rate. */
const figure = (value) => (typeof value === 'number' ? value : (value?.median ?? value?.rate ?? value?.perSecond));

export async function run({ outboundItems, rounds }) {
	const rows = [];
	for (const concurrency of [1, 8]) {
		const id = `4.c${concurrency}`;
		const part = '4 outgoing';
		const name = `Profile Webhook node (ExecuteContext) vs bare fetch loop, concurrency ${concurrency}`;
		if (!existsSync(file)) {
			rows.push(unavailable({ id, part, name, reason: 'not available: bench/outbound.js is not on this branch yet' }));
			continue;
		}
		const mod = await import(pathToFileURL(file).href);
		const runOutboundBench = mod.runOutboundBench ?? mod.default?.runOutboundBench;
		const got = await runOutboundBench({ items: outboundItems, concurrency, repeats: rounds });
		const pkg = figure(got.node);
		const base = figure(got.baseline);
		const ratio = figure(got.ratio) ?? pkg / base;
		rows.push(
			row({
				id,
				part,
				name,
				unit: 'requests/s',
				result: { package: pkg, baseline: base, ratio, ratioMin: got.ratioMin ?? ratio, ratioMax: got.ratioMax ?? ratio, samples: got.samples ?? got },
				goal: { op: '>=', value: 0.8 },
			}),
		);
	}
	return { rows, notes: [] };
}
