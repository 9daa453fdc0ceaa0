import { afterAll, beforeAll, inject } from 'vitest';
import { startServer, type RunningServer } from '../support/go-server.mjs';

/** Starts a real server (2 s access tokens, fresh SQLite store) for the
 * calling test file; its URL is ready once the file's tests run. */
export function useServer(): { readonly url: string } {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startServer({ ...inject('serverBuild'), cleanup: () => {} });
  });
  afterAll(() => server?.stop());
  return {
    get url() {
      if (!server) throw new Error('the server is not started yet');
      return server.url;
    },
  };
}
