/**
 * Runs one benchmark part in its own process (so peak memory is the part's own) and writes its
 * result as JSON: `node bench/lib/child.mjs <part> <out.json> <options-json>`.
 */
import { writeFileSync } from 'node:fs';

import { peakRssMb } from './measure.mjs';

// node:sqlite warns once per process on some Node 24 releases; the figures do not need it.
const emit = process.emitWarning;
process.emitWarning = (warning, ...rest) => (String(warning).includes('SQLite') ? undefined : emit.call(process, warning, ...rest));

const [part, out, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson);
const started = Date.now();
try {
	const mod = await import(new URL(`../parts/${part}.mjs`, import.meta.url));
	const result = await mod.run(options);
	writeFileSync(
		out,
		JSON.stringify({ part, ...result, peakRssMb: peakRssMb(), seconds: (Date.now() - started) / 1000 }, null, 2),
	);
	process.exitCode = 0;
} catch (error) {
	writeFileSync(out, JSON.stringify({ part, error: String(error?.stack ?? error), peakRssMb: peakRssMb(), seconds: (Date.now() - started) / 1000 }));
	process.stderr.write(`[bench] part ${part} failed: ${error?.stack ?? error}\n`);
	process.exitCode = 1;
}
