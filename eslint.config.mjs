// ESLint flat config: typescript-eslint for the code, and n8n's own community-node rule sets
// (eslint-plugin-n8n-nodes-base) for package.json, credentials and nodes.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';

const n8nRules = (set) => n8nNodesBase.configs[set].rules;

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.cache/**', '.e2e/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, ...tseslint.configs.recommended],
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			'no-console': 'error',
		},
	},
	{
		// lib/ is the engine: no n8n imports at all (DESIGN 1). Nodes translate; lib/ decides.
		files: ['lib/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ regex: '^(n8n-workflow|n8n-core|@n8n/.*)$', message: 'lib/ never imports n8n: translate in the node (nodes/) instead.' },
						{ regex: '^(\\.\\./)+(nodes|credentials)/', message: 'lib/ never imports nodes or credentials.' },
					],
				},
			],
		},
	},
	{
		files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
		rules: { 'no-console': 'off' },
	},
	{
		files: ['package.json'],
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nRules('community'),
			// The package is published from this repository; its URL is not the starter's default.
			'n8n-nodes-base/community-package-json-name-still-default': 'off',
		},
	},
	{
		files: ['credentials/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nRules('credentials'),
			// Its own docs: "Only applicable to nodes in the main repository"; ours link to full URLs.
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nRules('nodes'),
			// These two predate NodeConnectionTypes and ask for the string 'main', which n8n's current
			// community rules forbid (node-connection-type-literal).
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
		},
	},
);
