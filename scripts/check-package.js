// Checks that every file package.json's `n8n` section names exists in dist/ (run after a build).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const { n8n } = require(join(root, 'package.json'));
const listed = [...(n8n.nodes ?? []), ...(n8n.credentials ?? [])];
const missing = listed.filter((file) => !existsSync(join(root, file)));
if (missing.length) {
	console.error(`Missing from the build: ${missing.join(', ')}`);
	process.exit(1);
}
console.log(`All ${listed.length} files named in package.json's n8n section exist.`);
