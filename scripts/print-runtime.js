// Printed before the tests so a log always says which Node ran them (n8n 2.x runs on Node 24).
const major = Number(process.versions.node.split('.')[0]);
console.log(`Tests run on Node ${process.version} (${process.execPath})`);
if (major < 24) {
	console.error('Node 24 is required: run the tests through npm, which puts the pinned Node 24 first on PATH.');
	process.exit(1);
}
