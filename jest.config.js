/** ESM + ts-jest setup from ../shared/TOOLCHAIN.md: got is ESM-only. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test'],
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  testMatch: ['**/*.test.ts'],
  testTimeout: 30000,
  // Integration tests share one Redis and bind local ports; two workers fit the 2-core machine.
  maxWorkers: 2,
};
