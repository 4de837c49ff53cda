/**
 * One jest run covers everything. Suites under test/api and test/auth run twice, once per storage
 * backend (PGlite and PostgreSQL); the end-to-end suites (provider, constructs, sdk, cli) run once,
 * on PostgreSQL. test/support/global-setup.ts starts a disposable PostgreSQL when TEST_DATABASE_URL
 * is not set.
 */
const base = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  // ESM-only dependencies that must be compiled to CommonJS for jest: @noble, and openid-client with
  // oauth4webapi, and the jose 6 that openid-client and the MCP SDK each carry (the top-level jose 5
  // ships CommonJS and is left alone).
  transformIgnorePatterns: ['^(?!.*/node_modules/(openid-client|@modelcontextprotocol/sdk)/node_modules/jose/).*/node_modules/(?!(@noble|openid-client|oauth4webapi)/)'],
  // Examples import the packages by name, as users do; under jest they run from the sources
  // (compiled examples resolve the names to the built workspace packages instead).
  moduleNameMapper: { '^@certusordo/sdk$': '<rootDir>/sdk/src', '^@certusordo/sdk/mcp$': '<rootDir>/sdk/src/mcp', '^@certusordo/cdktf$': '<rootDir>/constructs/src' },
  rootDir: __dirname,
};

const perBackend = ['<rootDir>/test/api/**/*.test.ts', '<rootDir>/test/auth/**/*.test.ts'];

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 2,
  // A worker that has run many PGlite suites holds ~1.5 GB (each suite's WASM instance and data);
  // recycle it between files past this, so one long run does not carry every suite's memory.
  workerIdleMemoryLimit: '1GB',
  projects: [
    { ...base, displayName: 'pglite', testMatch: perBackend, setupFiles: ['<rootDir>/test/support/backend-pglite.ts'] },
    { ...base, displayName: 'postgres', testMatch: perBackend, setupFiles: ['<rootDir>/test/support/backend-postgres.ts'] },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/{provider,constructs,sdk,cli,model,migrations,server,console,ops,packages}/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/backend-postgres.ts'],
    },
  ],
};
