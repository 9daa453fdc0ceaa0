import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@\//, replacement: here('./src/') },
      // Native modules have no Node implementation: the tests' stand-ins.
      { find: /^expo-secure-store$/, replacement: here('./test/fakes/expo-secure-store.ts') },
      { find: /^expo-local-authentication$/, replacement: here('./test/fakes/expo-local-authentication.ts') },
    ],
  },
  test: {
    include: ['test/vitest/**/*.test.{ts,tsx}'],
    environment: 'node',
    globalSetup: ['test/vitest/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
