// Two tiers by suffix (README, "Tests"): *.test.ts are pure and fast, *.int.test.ts use the
// real Redis the global setup provides and the foxapi simulator over HTTP.
const tsJest = ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json', diagnostics: { ignoreCodes: [151002] } }];
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: {
    '^@batchscribe/(shared|foxapi-sim)$': '<rootDir>/packages/$1/src/index.ts',
    // The CLI bundles only these modules of shared, not the whole package.
    '^@batchscribe/shared/url-list$': '<rootDir>/packages/shared/src/intake/url-list.ts',
    '^@batchscribe/shared/uploads$': '<rootDir>/packages/shared/src/uploads/upload.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
/** @type {import('jest').Config} */
export default {
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  testTimeout: 60_000,
  // A stray timer or socket from a library (a bull-board or ioredis reconnect) must not hang CI
  // after every test has finished; the suites themselves close what they open.
  forceExit: true,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/test/**/*.test.ts', '!**/*.int.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$'],
    },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/**/test/**/*.int.test.ts'] },
  ],
};
