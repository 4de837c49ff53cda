/** Test projects share one config; CERTUSORDO_TEST_DB picks the backend (pglite | postgres). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: { warnOnly: false }, isolatedModules: false }],
  },
  // ESM-only dependencies that must be compiled to CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@noble)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
