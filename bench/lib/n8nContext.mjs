/**
 * The test suite's real n8n-core contexts (test/helpers/n8n.ts: WebhookContext behind an express
 * server as n8n serves it, ExecuteContext), for benchmarks that run against dist/. The helper is
 * TypeScript, so it is transpiled once (types erased, nothing else) into .cache/bench/ and required
 * from there; its imports (n8n-core, n8n-workflow, express) resolve from the repository.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(repo, 'package.json'));

export function loadN8nTestHelpers() {
	const source = join(repo, 'test', 'helpers', 'n8n.ts');
	const target = join(repo, '.cache', 'bench', 'n8n-helpers.cjs');
	if (!existsSync(target) || statSync(target).mtimeMs < statSync(source).mtimeMs) {
		const ts = require('typescript');
		const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
			compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
			fileName: source,
		});
		mkdirSync(dirname(target), { recursive: true });
		writeFileSync(target, outputText);
	}
	return require(target);
}

export const requireFromRepo = require;
