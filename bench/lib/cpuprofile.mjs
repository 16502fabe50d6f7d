/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function (name, file:line), the top
 * ones first, and self time per file group (this package, n8n, node_modules, node internals), so a
 * missed goal comes with where the time went.
 */
import { readFileSync } from 'node:fs';

function group(url) {
	if (!url) return '(native/V8)';
	if (url.startsWith('node:')) return 'node internals';
	// The last node_modules segment names the package (n8n itself lives under a cache folder whose
	// name holds this package's name, so that is not a clue).
	const parts = url.split('node_modules/');
	if (parts.length > 1) {
		const match = /^((?:@[^/]+\/)?[^/]+)/.exec(parts[parts.length - 1]);
		if (match) return match[1] === 'n8n-nodes-profile-webhooks' ? 'this package' : match[1];
	}
	if (/\/dist\/(lib|nodes|credentials)\//.test(url)) return 'this package';
	return url.replace(/^file:\/\//, '');
}

/**
 * `windows`: only samples taken inside these [from, to] intervals count, in milliseconds before the
 * profile's end (for a process profiled as a whole, of which only the load matters).
 */
export function summarizeCpuProfile(file, options = {}) {
	return summarizeProfiles([JSON.parse(readFileSync(file, 'utf8'))], { ...options, file });
}

/** The same over several profiles (say, one per measured round), added up. */
export function summarizeProfiles(profiles, { top = 20, windows, file } = {}) {
	const functions = new Map();
	const groups = new Map();
	let total = 0;
	for (const profile of profiles) total += addProfile(profile, windows, functions, groups);
	total ||= 1;
	const pct = (micros) => Math.round((micros / total) * 1000) / 10;
	return {
		...(file ? { file } : {}),
		totalMs: Math.round(total / 1000),
		topFunctions: [...functions]
			.sort((a, b) => b[1] - a[1])
			.slice(0, top)
			.map(([name, micros]) => ({ name, selfMs: Math.round(micros / 1000), pct: pct(micros) })),
		byGroup: [...groups]
			.sort((a, b) => b[1] - a[1])
			.slice(0, 15)
			.map(([name, micros]) => ({ name, selfMs: Math.round(micros / 1000), pct: pct(micros) })),
	};
}

function addProfile(profile, windows, functions, groups) {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const self = new Map();
	const { samples, timeDeltas } = profile;
	let at = profile.startTime;
	const inWindow = (t) => {
		if (!windows) return true;
		const beforeEndMs = (profile.endTime - t) / 1000;
		return windows.some(([from, to]) => beforeEndMs <= from && beforeEndMs >= to);
	};
	for (let k = 0; k < samples.length; k++) {
		at += timeDeltas[k] ?? 0;
		if (!inWindow(at)) continue;
		// A sample's weight is the time to the next one (V8's convention for self time).
		const weight = timeDeltas[k + 1] ?? 0;
		self.set(samples[k], (self.get(samples[k]) ?? 0) + weight);
	}
	let total = 0;
	for (const [id, micros] of self) {
		total += micros;
		const { callFrame } = byId.get(id);
		const short = callFrame.url ? callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/') : '';
		const key = `${callFrame.functionName || '(anonymous)'} ${short}${short ? `:${callFrame.lineNumber + 1}` : ''}`;
		functions.set(key, (functions.get(key) ?? 0) + micros);
		const g = group(callFrame.url);
		groups.set(g, (groups.get(g) ?? 0) + micros);
	}
	return total;
}
