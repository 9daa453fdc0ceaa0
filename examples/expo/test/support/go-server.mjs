// Builds and runs the repository's chi example server (a real authguard
// server) for the tests: once built into a temporary directory, each server
// listens on a free port of 127.0.0.1 with its own SQLite store.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The repository root: examples/expo/../.. */
export const repoRoot = path.resolve(appDir, '..', '..');

/** Builds ./examples/chi into a new temporary directory. */
export function buildServer() {
  if (!existsSync(path.join(repoRoot, 'go.work'))) {
    throw new Error(`no go.work in ${repoRoot}: the tests run inside the authguard repository`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'authguard-expo-'));
  const bin = path.join(dir, 'authguard-chi');
  execFileSync('go', ['build', '-o', bin, './examples/chi'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local' },
  });
  return { dir, bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// node:http, not fetch: a test environment may replace fetch (happy-dom's
// enforces CORS, jest-expo's is Expo's).
function healthy(url) {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => req.destroy());
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the built server. env overrides the defaults: a 2 s access token
 * and no clock leeway, so that an expiry takes two seconds, not ten minutes.
 */
export async function startServer(build, env = {}) {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const log = path.join(build.dir, `server-${port}.log`);
  const child = spawn(build.bin, [], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? build.dir,
      AUTHGUARD_ADDR: addr,
      AUTHGUARD_STORE: `sqlite:${path.join(build.dir, `store-${port}.db`)}`,
      AUTHGUARD_ACCESS_TTL: '2s',
      AUTHGUARD_LEEWAY: '0s',
      ...env,
    },
    stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
  });
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = signal ?? code;
  });
  const url = `http://${addr}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited !== null) throw new Error(`the server exited (${exited}):\n${readFileSync(log, 'utf8')}`);
    if (await healthy(url)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer /healthz within 20 s:\n${readFileSync(log, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
