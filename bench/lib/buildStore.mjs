/**
 * Builds a profile store of `n` profiles for the size benchmark (part 2) through the engine's bulk
 * path, `importProfiles` (a transaction per batch, not one per profile), with the identifier
 * property indexed first as the trigger does at activation. The result is checked through the
 * engine before it is used.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The profile every size uses: `email` (the identifier) and `visits`. */
export const seedEmail = (i) => `seed${i}@example.test`;

export function* seedProfiles(n, from = 0) {
	for (let i = from; i < n; i++) yield { properties: { email: [seedEmail(i)], visits: [i % 1000] } };
}

export async function buildStore(path, n, { dist, batchSize = 20_000 } = {}) {
	const { ProfileEngine } = await import(join(dist, 'lib', 'profiles', 'engine.js'));
	const { SqliteStore } = await import(join(dist, 'lib', 'store', 'sqlite', 'SqliteStore.js'));
	// synchronous NORMAL while building: the file is thrown away after the run, and a batch's
	// durability is not what is measured.
	const engine = new ProfileEngine(new SqliteStore(path, { synchronous: 'NORMAL' }));
	try {
		await engine.ensureIndexed(['email']);
		const written = await engine.importProfiles(seedProfiles(n), { batchSize });
		if (written !== n) throw new Error(`buildStore: importProfiles wrote ${written} of ${n} profiles`);
		for (const i of [0, n - 1]) {
			const { profile } = await engine.findByIdentifier('DEFAULT', 'email', seedEmail(i));
			if (profile?.properties.email?.[0] !== seedEmail(i)) throw new Error(`buildStore: profile ${i} not found through the engine`);
		}
	} finally {
		await engine.close();
	}
}

/** Every file under `dir`, recursively, for the cache key. */
function files(dir) {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
		entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
	);
}

/**
 * buildStore, kept between runs in .cache/bench/ (a million profiles take about a minute to import):
 * the key is `n` and a digest of the built engine and store code, so any change to them builds
 * afresh. The run gets a copy (its updates change the file).
 */
export async function buildStoreCached(path, n, { dist, cacheDir }) {
	const digest = createHash('sha256');
	for (const file of [...files(join(dist, 'lib', 'profiles')), ...files(join(dist, 'lib', 'store'))].sort()) {
		digest.update(file.slice(dist.length)).update(readFileSync(file));
	}
	const key = `store-${n}-${digest.digest('hex').slice(0, 12)}.sqlite`;
	const cached = join(cacheDir, key);
	let built = false;
	if (!existsSync(cached)) {
		mkdirSync(cacheDir, { recursive: true });
		for (const old of readdirSync(cacheDir)) if (old.startsWith(`store-${n}-`)) rmSync(join(cacheDir, old), { force: true });
		const partial = `${cached}.building-${process.pid}`;
		await buildStore(partial, n, { dist });
		renameSync(partial, cached);
		built = true;
	}
	mkdirSync(dirname(path), { recursive: true });
	copyFileSync(cached, path);
	return { built, cached };
}
