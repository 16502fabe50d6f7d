/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['<rootDir>/test/lib/**/*.test.ts', '<rootDir>/test/nodes/**/*.test.ts'],
	setupFiles: ['<rootDir>/test/helpers/setup-env.ts'],
	// PostgreSQL for the store tests: PROFILE_STORE_PG_URL, or a private cluster started for the run.
	globalSetup: '<rootDir>/test/helpers/postgres-global-setup.js',
	globalTeardown: '<rootDir>/test/helpers/postgres-global-teardown.js',
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: { warnOnly: false } }],
		// ip-cidr 4 and jose 6 are ESM-only; Node 24 loads them with require(), Jest needs them transformed.
		'node_modules/(ip-cidr|jose)/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true }, isolatedModules: true }],
	},
	transformIgnorePatterns: ['/node_modules/(?!(ip-cidr|jose)/)'],
	// ip-cidr's default import of the CommonJS ip-address, as Node resolves it (see the shim).
	moduleNameMapper: { '^ip-address$': '<rootDir>/test/helpers/ipAddressDefault.js' },
	testTimeout: 30000,
	reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
