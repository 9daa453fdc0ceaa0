/** Screen tests: the real app/ routes rendered by expo-router's testing
 * library, talking to a real example server started in globalSetup. */
module.exports = {
  preset: 'jest-expo',
  testMatch: ['<rootDir>/test/screens/**/*.test.tsx'],
  globalSetup: '<rootDir>/test/screens/global-setup.mjs',
  globalTeardown: '<rootDir>/test/screens/global-teardown.mjs',
  setupFilesAfterEnv: ['<rootDir>/test/screens/setup.ts'],
  moduleNameMapper: {
    '^@/(.*)$': '<rootDir>/src/$1',
    // The browser build of axios has no Node adapter.
    '^axios$': '<rootDir>/node_modules/axios/dist/node/axios.cjs',
    // Native modules have no Node implementation: the tests' stand-ins.
    '^expo-secure-store$': '<rootDir>/test/fakes/expo-secure-store.ts',
    '^expo-local-authentication$': '<rootDir>/test/fakes/expo-local-authentication.ts',
  },
  testTimeout: 60000,
  // A test that fails while a request is in flight must not keep jest (and
  // CI) waiting for open handles.
  forceExit: true,
  // One file at a time: the files share one server and the demo accounts.
  maxWorkers: 1,
};
