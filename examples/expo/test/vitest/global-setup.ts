import type { TestProject } from 'vitest/node';
import { buildServer, startServer } from '../support/go-server.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    apiURL: string;
  }
}

/** One real server for every test file: `go build ./examples/chi`, then run
 * it on a fresh SQLite store with a 2 s access-token lifetime. */
export default async function setup(project: TestProject) {
  const build = buildServer();
  const server = await startServer(build);
  project.provide('apiURL', server.url);
  return async () => {
    await server.stop();
    build.cleanup();
  };
}
