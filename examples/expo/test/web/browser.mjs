// The web build in a real browser. Builds the repository's chi example
// server and starts it on a temporary SQLite store with a 2 s access token,
// exports the app for the web (expo export --platform web --clear), serves
// the export from a small static server that also passes /auth/ and /api/ to
// the API (one origin, so the page needs no CORS), and drives headless
// Chromium through playwright-core:
//
//   log in in cookie transport; call a guarded route; outlive the access
//   token through refreshes that carry only the HttpOnly cookie; reload the
//   page and be signed in again through the cookie; be signed out once the
//   session is revoked from another session; and find no refresh token (nor
//   any string shaped like one) in document.cookie, localStorage or
//   sessionStorage at any point.
//
// Screenshots of the login, home and sessions screens are written to a
// temporary directory, which the last line names; SCREENSHOTS_DIR=dir writes
// them there instead (SCREENSHOTS_DIR=../../docs/screenshots refreshes the
// repository's, which show session ids and times, so a plain test run leaves
// them alone).
//
//   npm run test:web
//   SCREENSHOTS_DIR=../../docs/screenshots npm run test:web
//
// CHROMIUM names the browser binary (default /usr/bin/chromium, Debian's
// chromium package). WEB_DIST names an existing export to serve instead of
// exporting again (for repeated local runs; the export must have been made
// with EXPO_PUBLIC_API_URL set to the empty string).
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildServer, repoRoot, startServer } from '../support/go-server.mjs';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const shotsDir = process.env.SCREENSHOTS_DIR
  ? path.resolve(process.env.SCREENSHOTS_DIR)
  : mkdtempSync(path.join(os.tmpdir(), 'authguard-screenshots-'));
const browserBin = process.env.CHROMIUM || '/usr/bin/chromium';
const COOKIE = '__Secure-authguard-refresh';
const USER = { email: 'user@example.com', password: 'demo-password' };
const ACCESS_TTL_S = 2;
// A refresh token is opaque base64url of at least 43 characters; an access
// token is a JWT. Nothing of either shape may sit where page scripts read.
const TOKEN_SHAPES = [/[A-Za-z0-9_-]{43,}/, /[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/];

const timings = {};
async function timed(name, fn) {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = (Date.now() - t0) / 1000;
  }
}

let checks = 0;
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  checks++;
  console.log(`ok ${checks} - ${what}`);
}

async function waitFor(what, fn, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code}`)),
    );
  });
}

/** expo export --platform web, with --clear: Metro's cache is shared by every
 * project on the machine and keyed without EXPO_PUBLIC_* values, so without
 * it an export can inline another build's API URL. */
async function exportWeb(outDir) {
  await run('npx', ['--no-install', 'expo', 'export', '--platform', 'web', '--clear', '--output-dir', outDir], {
    cwd: appDir,
    // Empty: the page calls its own origin, where the static server passes
    // /auth/ and /api/ on to the API.
    env: { ...process.env, EXPO_PUBLIC_API_URL: '', CI: '1' },
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.svg': 'image/svg+xml',
};

/**
 * Serves dist with a fallback to index.html (the app's routes are client
 * side) and passes /auth/, /api/ and /healthz on to the API, recording each
 * exchange (method, path, status, the request headers that matter and the
 * body of /auth/ answers) for the checks.
 */
function staticServer(dist) {
  const exchanges = [];
  let api = null;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (/^\/(auth|api)\//.test(url.pathname) || url.pathname === '/healthz') {
      if (!api) {
        res.writeHead(503).end();
        return;
      }
      const ex = {
        method: req.method,
        path: url.pathname,
        transport: req.headers['x-auth-transport'],
        origin: req.headers.origin,
        bearer: (req.headers.authorization ?? '').replace(/^Bearer /, ''),
        cookie: req.headers.cookie ?? '',
        requestBytes: 0,
        status: 0,
        setCookie: [],
        body: '',
      };
      exchanges.push(ex);
      const up = http.request(`${api}${req.url}`, { method: req.method, headers: req.headers }, (upRes) => {
        ex.status = upRes.statusCode ?? 0;
        ex.setCookie = upRes.headers['set-cookie'] ?? [];
        res.writeHead(ex.status, upRes.rawHeaders);
        upRes.on('data', (c) => {
          if (ex.path.startsWith('/auth/')) ex.body += c;
          res.write(c);
        });
        upRes.on('end', () => res.end());
      });
      up.on('error', () => res.writeHead(502).end());
      req.on('data', (c) => (ex.requestBytes += c.length));
      req.pipe(up);
      return;
    }
    let file = path.join(dist, path.normalize(decodeURIComponent(url.pathname)));
    if (!file.startsWith(dist + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      file = path.join(dist, 'index.html');
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        exchanges,
        setAPI: (u) => (api = u),
        close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    );
  });
}

async function api(base, method, p, { body, bearer } = {}) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** What page scripts can read: document.cookie and both Web Storages. */
async function readableByScripts(page) {
  return page.evaluate(() => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => [s.key(i), s.getItem(s.key(i))]);
    return { cookie: document.cookie, local: dump(localStorage), session: dump(sessionStorage) };
  });
}

async function refreshCookies(context) {
  return (await context.cookies()).filter((c) => c.name === COOKIE);
}

async function checkNothingReadable(page, context, seenRefreshTokens, when) {
  const seen = await readableByScripts(page);
  check(!seen.cookie.includes(COOKIE), `${when}: document.cookie does not show the refresh cookie`);
  const values = [seen.cookie, ...seen.local.flat(), ...seen.session.flat()].filter(Boolean);
  const leaks = values.filter((v) => [...seenRefreshTokens].some((t) => v.includes(t)));
  check(leaks.length === 0, `${when}: no refresh token in document.cookie, localStorage or sessionStorage`);
  const shaped = values.filter((v) => TOKEN_SHAPES.some((re) => re.test(v)));
  check(shaped.length === 0, `${when}: no token-shaped string there either (${seen.local.length + seen.session.length} storage items)`);
  const jar = await refreshCookies(context);
  check(
    jar.length === 1 && jar[0].httpOnly && jar[0].secure && jar[0].sameSite === 'Strict' && jar[0].path === '/auth',
    `${when}: the browser holds the refresh token in one HttpOnly, Secure, SameSite=Strict cookie on /auth`,
  );
  return jar[0].value;
}

async function main() {
  if (!existsSync(browserBin)) throw new Error(`no browser at ${browserBin} (apt-get install -y chromium, or set CHROMIUM)`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'authguard-web-'));
  const cleanups = [() => rmSync(tmp, { recursive: true, force: true })];
  let site = null;
  try {
    const build = await timed('go build', () => buildServer());
    cleanups.unshift(build.cleanup);
    let dist = process.env.WEB_DIST ? path.resolve(process.env.WEB_DIST) : path.join(tmp, 'dist');
    if (!process.env.WEB_DIST) await timed('expo export', () => exportWeb(dist));
    check(existsSync(path.join(dist, 'index.html')), 'the web export has an index.html');

    site = await staticServer(dist);
    cleanups.unshift(site.close);
    // localhost, not 127.0.0.1: browsers keep Secure cookies on plain HTTP
    // only for localhost.
    const origin = `http://localhost:${site.port}`;
    const server = await startServer(build, {
      AUTHGUARD_ACCESS_TTL: `${ACCESS_TTL_S}s`,
      AUTHGUARD_ALLOWED_ORIGINS: origin,
    });
    cleanups.unshift(server.stop);
    site.setAPI(server.url);

    const context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: browserBin,
      headless: true,
      viewport: { width: 420, height: 760 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    cleanups.unshift(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    mkdirSync(shotsDir, { recursive: true });
    const seenRefreshTokens = new Set();

    await timed('browser checks', async () => {
      // 1. The protected home redirects to the login screen.
      await page.goto(`${origin}/`);
      await page.getByTestId('login-email').waitFor();
      check(new URL(page.url()).pathname === '/login', 'opening / without a session lands on /login');

      // The start-up restore tried the (absent) cookie and found no session.
      const startup = site.exchanges.filter((e) => e.path === '/auth/refresh');
      check(
        startup.every((e) => e.status === 400 && e.transport === 'cookie' && !e.cookie.includes(COOKIE)),
        `the start-up restore asked for a cookie refresh without a cookie and got 400 (${startup.length}×)`,
      );

      await page.getByTestId('login-email').fill(USER.email);
      await page.getByTestId('login-password').fill(USER.password);
      await page.screenshot({ path: path.join(shotsDir, 'login.png') });

      // 2. A wrong password is the contract's 400, shown on the form.
      await page.getByTestId('login-password').fill('wrong password');
      await page.getByTestId('login-submit').click();
      await page.getByTestId('login-error').waitFor();
      check((await page.getByTestId('login-error').textContent())?.includes('Wrong e-mail or password'), 'a wrong password is shown as such');
      check(
        site.exchanges.some((e) => e.path === '/auth/login' && e.status === 400) &&
          site.exchanges.filter((e) => e.path === '/auth/refresh').length === startup.length,
        'a wrong password gets 400 and no refresh is tried',
      );

      // 3. Log in in cookie transport.
      await page.getByTestId('login-password').fill(USER.password);
      await page.getByTestId('login-submit').click();
      const profile = page.getByTestId('profile-text');
      await profile.waitFor();
      check((await profile.textContent())?.includes('(user)'), 'after login the home screen shows the profile from the guarded /api/profile');
      const login = site.exchanges.findLast((e) => e.path === '/auth/login');
      const loginBody = JSON.parse(login.body);
      check(
        login.status === 200 && login.transport === 'cookie' && login.origin === origin && !('refreshToken' in loginBody),
        'login asked for cookie transport from the allowed origin, and its body carries no refreshToken',
      );
      check(
        login.setCookie.some((c) => c.startsWith(`${COOKIE}=`) && /HttpOnly/.test(c)),
        'login set the HttpOnly refresh cookie',
      );
      const guarded = site.exchanges.find((e) => e.path === '/api/profile' && e.status === 200);
      check(guarded && guarded.bearer === loginBody.accessToken && !guarded.cookie.includes(COOKIE), 'the guarded call carried the bearer token and not the refresh cookie (Path=/auth)');
      seenRefreshTokens.add(await checkNothingReadable(page, context, seenRefreshTokens, 'after login'));
      await page.getByTestId('session-text').waitFor();
      await page.screenshot({ path: path.join(shotsDir, 'home.png') });

      // 4. Outlive the access token: the app refreshes through the cookie.
      const firstCookie = [...seenRefreshTokens][0];
      await new Promise((r) => setTimeout(r, (ACCESS_TTL_S + 1.5) * 1000));
      const expired = await api(server.url, 'GET', '/api/profile', { bearer: loginBody.accessToken });
      check(expired.status === 401, `the login's access token has expired on the server (401 after ${ACCESS_TTL_S + 1.5} s)`);
      const before = site.exchanges.length;
      await page.getByTestId('reload-profile').click();
      await waitFor('a fresh /api/profile', () =>
        site.exchanges.slice(before).some((e) => e.path === '/api/profile' && e.status === 200),
      );
      check((await profile.textContent())?.includes('(user)'), 'the profile reloads after the access token expired');
      const refreshes = site.exchanges.slice(site.exchanges.indexOf(login)).filter((e) => e.path === '/auth/refresh');
      check(refreshes.length >= 1 && refreshes.every((e) => e.status === 200), `the app refreshed (${refreshes.length}×, all 200)`);
      check(
        refreshes.every(
          (e) => e.transport === 'cookie' && e.requestBytes === 0 && e.cookie.includes(`${COOKIE}=`) && !e.bearer && !('refreshToken' in JSON.parse(e.body)),
        ),
        'each refresh sent only X-Auth-Transport: cookie and the cookie: no body, no bearer; no refreshToken came back',
      );
      const afterProfile = site.exchanges.slice(before).find((e) => e.path === '/api/profile' && e.status === 200);
      check(afterProfile.bearer !== loginBody.accessToken, 'the reload used a new access token');
      check(!site.exchanges.some((e) => e.status >= 500), 'no exchange was answered with a 5xx');
      const rotated = await checkNothingReadable(page, context, seenRefreshTokens, 'after the refresh');
      check(rotated !== firstCookie, 'the refresh rotated the cookie');
      seenRefreshTokens.add(rotated);

      // 5. A reload forgets the in-memory access token; the cookie restores the session.
      await page.reload();
      await profile.waitFor();
      check(new URL(page.url()).pathname === '/', 'after a page reload the session is restored through the cookie');
      seenRefreshTokens.add(await checkNothingReadable(page, context, seenRefreshTokens, 'after the reload'));

      // 6. The sessions screen, with another device signed in from Node.
      const other = await api(server.url, 'POST', '/auth/login', { body: { ...USER, device: { name: 'Other device' } } });
      check(other.status === 200 && typeof other.body.refreshToken === 'string', 'a second session logs in from Node (JSON transport)');
      await page.getByTestId('sessions-link').click();
      await page.getByTestId('this-device').waitFor();
      const browserSession = site.exchanges.findLast((e) => e.path === '/auth/refresh' && e.status === 200);
      const browserSessionId = JSON.parse(browserSession.body).sessionId;
      await page.getByTestId(`session-${other.body.sessionId}`).waitFor();
      check(
        (await page.getByTestId(`session-${browserSessionId}`).getByTestId('this-device').count()) === 1,
        'the sessions screen lists both sessions and marks the browser\'s as "This device"',
      );
      await page.screenshot({ path: path.join(shotsDir, 'sessions.png') });

      // 7. The other session signs out every other device, this browser included.
      const revoked = await api(server.url, 'DELETE', '/auth/sessions', { bearer: other.body.accessToken });
      check(revoked.status === 204, 'the other session revokes every other session (204)');
      // Back to the home screen, whose calls meet the revoked session (unless a
      // silent refresh has met it already and the app is on the login).
      if (new URL(page.url()).pathname === '/sessions') await page.goBack();
      await page.getByTestId('session-ended').waitFor({ timeout: 15_000 });
      check(new URL(page.url()).pathname === '/login', 'the browser is signed out and told its session ended');
      const last = site.exchanges.findLast((e) => e.path === '/auth/refresh');
      check(last.status === 400 && JSON.parse(last.body).error === 'invalid_grant', 'the sign-out followed the server\'s invalid_grant');
      check((await refreshCookies(context)).length === 0, 'the invalid_grant answer cleared the refresh cookie');
      const seen = await readableByScripts(page);
      const values = [seen.cookie, ...seen.local.flat(), ...seen.session.flat()].filter(Boolean);
      check(!values.some((v) => TOKEN_SHAPES.some((re) => re.test(v))), 'after the sign-out no token-shaped string is readable');
      // Its access token may have expired by now: its refresh shows the session lives.
      const still = await api(server.url, 'POST', '/auth/refresh', { body: { refreshToken: other.body.refreshToken } });
      check(still.status === 200 && still.body.sessionId === other.body.sessionId, 'the other session is untouched (it refreshes)');
      check(pageErrors.length === 0, `no uncaught error in the page${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
    });
  } catch (e) {
    console.error(String(e?.stack ?? e));
    if (site) {
      // What went over the wire, without any token or cookie.
      console.error('exchanges through the static server:');
      for (const x of site.exchanges) console.error(`  ${x.method} ${x.path} -> ${x.status}`);
    }
    process.exitCode = 1;
  } finally {
    for (const c of cleanups) await c();
  }
  const t = Object.entries(timings)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ');
  console.log(`${process.exitCode ? 'FAILED' : 'passed'}: ${checks} checks (${t}); screenshots in ${shotsDir}/`);
}

await main();
