import { buildServer, startServer } from '../support/go-server.mjs';

// One real server for the screen tests, with access tokens of a minute (the
// expiry paths are the vitest suite's). The app reads its URL from
// EXPO_PUBLIC_API_URL, which the test workers inherit.
export default async function globalSetup() {
  const build = buildServer();
  const server = await startServer(build, { AUTHGUARD_ACCESS_TTL: '60s' });
  process.env.EXPO_PUBLIC_API_URL = server.url;
  globalThis.authguardServer = { server, build };
}
