import type { TestProject } from 'vitest/node';
import { buildServer } from '../support/go-server.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    serverBuild: { dir: string; bin: string };
  }
}

/** `go build ./examples/chi` once; each test file then runs its own server
 * (test/vitest/server.ts), so that files running in parallel cannot end
 * each other's sessions. */
export default function setup(project: TestProject) {
  const build = buildServer();
  project.provide('serverBuild', { dir: build.dir, bin: build.bin });
  return () => build.cleanup();
}
