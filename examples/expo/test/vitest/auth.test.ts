import axios from 'axios';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { getProfile } from '@/api/endpoints';
import { storageKeys } from '@/auth/client';
import { OfflineError, SessionEndedError } from '@/auth/errors';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { useServer } from './server';
import { USER, disposeClients, makeClient, rawLogin, sleep, until, within } from '../support/clients';

const server = useServer();
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await startFaultProxy(server.url);
  return () => proxy.close();
});
afterEach(() => {
  disposeClients();
  proxy.clearFaults();
});

/** Waits out the 2 s access-token lifetime of the test server. */
const waitForExpiry = () => sleep(2100);

describe('login', () => {
  test('keeps the refresh token in the keystore and the access token in memory only', async () => {
    const { client, storage } = makeClient(server.url);
    await client.login(USER.email, USER.password);
    const s = client.store.getState();
    expect(s.status).toBe('signedIn');
    expect(s.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(storage.items.get(storageKeys.refreshToken)).toMatch(/^[\w-]{43,}$/);
    expect(storage.items.get(storageKeys.session)).toBe(s.sessionId);
    expect([...storage.items.values()]).not.toContain(s.accessToken);
    expect(JSON.stringify(s)).not.toContain(storage.items.get(storageKeys.refreshToken));
    const profile = await getProfile(client.api);
    expect(profile.roles).toEqual(['user']);
  });

  test('a wrong password is 400 invalid_grant and never a refresh', async () => {
    const t = makeClient(server.url);
    const err = await t.client.login(USER.email, 'wrong-password').catch((e: unknown) => e);
    expect(axios.isAxiosError(err) && err.response?.status).toBe(400);
    expect(axios.isAxiosError(err) && err.response?.data.error).toBe('invalid_grant');
    expect(t.refreshes()).toBe(0);
    expect(t.client.store.getState().status).not.toBe('signedIn');
    expect(t.storage.items.size).toBe(0);
  });
});

describe('one refresh for many 401s', () => {
  test('20 concurrent requests with an expired token: exactly one refresh, all 20 succeed', async () => {
    const t = makeClient(proxy.url, { silentRefresh: false });
    await t.client.login(USER.email, USER.password);
    const firstRefresh = t.storage.items.get(storageKeys.refreshToken);
    await waitForExpiry();
    const before401 = proxy.count('GET', '/api/profile', 401);
    const results = await within(Promise.all(Array.from({ length: 20 }, () => getProfile(t.client.api))), 10_000);
    expect(results).toHaveLength(20);
    for (const r of results) expect(r.roles).toEqual(['user']);
    expect(proxy.count('GET', '/api/profile', 401) - before401).toBe(20);
    expect(t.refreshes()).toBe(1);
    expect(t.storage.items.get(storageKeys.refreshToken)).not.toBe(firstRefresh);
  });

  test('when the refresh says invalid_grant, every queued request is rejected and the keystore is cleared', async () => {
    const t = makeClient(server.url, { silentRefresh: false });
    await t.client.login(USER.email, USER.password);
    const victim = t.client.store.getState().sessionId!;
    // Another device of the same account ends this session.
    const other = await rawLogin(server.url);
    await axios.delete(`${server.url}/auth/sessions/${victim}`, { headers: { Authorization: `Bearer ${other.accessToken}` } });

    const settled = await within(Promise.allSettled(Array.from({ length: 20 }, () => getProfile(t.client.api))), 10_000);
    expect(settled.map((r) => r.status)).toEqual(Array(20).fill('rejected'));
    for (const r of settled) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SessionEndedError);
    expect(t.refreshes()).toBe(1);
    expect(t.storage.items.size).toBe(0);
    expect(t.client.store.getState()).toMatchObject({ status: 'signedOut', accessToken: null, sessionEnded: true });
  });
});

describe('signed out only when the server says so', () => {
  test('a session revoked from another session is signed out at the next call', async () => {
    const t = makeClient(server.url);
    await t.client.login(USER.email, USER.password);
    await getProfile(t.client.api);
    const other = await rawLogin(server.url);
    await axios.delete(`${server.url}/auth/sessions`, { headers: { Authorization: `Bearer ${other.accessToken}` } });

    await expect(within(getProfile(t.client.api), 5000)).rejects.toBeInstanceOf(SessionEndedError);
    expect(t.client.store.getState().status).toBe('signedOut');
    expect(t.storage.items.get(storageKeys.refreshToken)).toBeUndefined();
    // The other device is untouched.
    const { data } = await axios.get(`${server.url}/api/profile`, { headers: { Authorization: `Bearer ${other.accessToken}` } });
    expect(data.roles).toEqual(['user']);
  });

  test('a 401 on the request retried after a successful refresh signs out', async () => {
    const t = makeClient(proxy.url, { silentRefresh: false });
    await t.client.login(USER.email, USER.password);
    proxy.failNext('/api/profile', { status: 401 }, { status: 401 });
    await expect(within(getProfile(t.client.api), 5000)).rejects.toBeInstanceOf(SessionEndedError);
    expect(t.refreshes()).toBe(1);
    expect(t.client.store.getState().status).toBe('signedOut');
    expect(t.storage.items.size).toBe(0);
  });

  test('a 401 answered after another request refreshed: retried with the newer token, and if that one is stale too, refreshed, not signed out', async () => {
    const t = makeClient(proxy.url, { silentRefresh: false });
    await t.client.login(USER.email, USER.password);
    // The first answer is slow; meanwhile another request refreshes.
    proxy.failNext('/api/profile', { status: 401, delayMs: 300 }, { status: 401 });
    const slow = getProfile(t.client.api);
    await sleep(100);
    await t.client.refresh();
    expect((await within(slow, 5000)).roles).toEqual(['user']);
    expect(t.refreshes()).toBe(2);
    expect(t.client.store.getState().status).toBe('signedIn');
  });

  test('503, a dropped connection, 429 and a timeout on refresh keep the session; the refresh is retried with backoff', async () => {
    const t = makeClient(proxy.url, { silentRefresh: false });
    await t.client.login(USER.email, USER.password);
    const stored = new Map(t.storage.items);
    await waitForExpiry();
    proxy.failNext('/auth/refresh', { status: 503 }, { drop: true }, { status: 429, retryAfter: 1 }, { hangMs: 1500 });

    // The request that found the token expired fails now, but nothing is lost.
    await expect(within(getProfile(t.client.api), 5000)).rejects.toBeInstanceOf(OfflineError);
    let s = t.client.store.getState();
    expect(s.status).toBe('signedIn');
    expect(s.connection.state).toBe('offline');
    expect(t.storage.items).toEqual(stored);

    // The retries run on their own until the server answers.
    await until(() => t.client.store.getState().connection.state === 'online', 15_000, 'back online');
    s = t.client.store.getState();
    expect(s.status).toBe('signedIn');
    expect(t.refreshes()).toBe(5);
    const refreshes = proxy.exchanges.filter((e) => e.path === '/auth/refresh').slice(-5);
    expect(refreshes.map((e) => e.status)).toEqual([503, 0, 429, 0, 200]);
    // Retry-After: 1 was honoured.
    expect(refreshes[3]!.at - refreshes[2]!.at).toBeGreaterThanOrEqual(950);
    expect(t.storage.items.get(storageKeys.refreshToken)).not.toBe(stored.get(storageKeys.refreshToken));
    expect((await getProfile(t.client.api)).roles).toEqual(['user']);
  });

  test('logout during an outage keeps the tokens; once it goes through, the session is over on the server', async () => {
    const t = makeClient(proxy.url);
    await t.client.login(USER.email, USER.password);
    const refreshToken = t.storage.items.get(storageKeys.refreshToken);
    proxy.failNext('/auth/logout', { status: 503 });
    await expect(t.client.logout()).rejects.toBeInstanceOf(OfflineError);
    expect(t.client.store.getState().status).toBe('signedIn');
    expect(t.storage.items.get(storageKeys.refreshToken)).toBe(refreshToken);

    await t.client.logout();
    expect(t.client.store.getState()).toMatchObject({ status: 'signedOut', sessionEnded: false });
    expect(t.storage.items.size).toBe(0);
    const err = await axios.post(`${server.url}/auth/refresh`, { refreshToken }).catch((e: unknown) => e);
    expect(axios.isAxiosError(err) && err.response?.data.error).toBe('invalid_grant');
  });
});

describe('silent refresh', () => {
  test('refreshes before the access token expires: no request ever sees a 401', async () => {
    const t = makeClient(proxy.url);
    await t.client.login(USER.email, USER.password);
    const startedAt = Date.now();
    const before = proxy.count('GET', '/api/profile', 401);
    let ok = 0;
    while (Date.now() - startedAt < 4000) {
      await getProfile(t.client.api);
      ok++;
      await sleep(100);
    }
    expect(ok).toBeGreaterThan(20);
    expect(proxy.count('GET', '/api/profile', 401) - before).toBe(0);
    // A 2 s token is refreshed about every second.
    expect(t.refreshes()).toBeGreaterThanOrEqual(2);
    expect(t.refreshes()).toBeLessThanOrEqual(6);
  });

  test('returning to the foreground refreshes a token that came due while the timers were suspended', async () => {
    let offset = 0;
    const t = makeClient(server.url, { silentRefresh: false, now: () => Date.now() + offset });
    await t.client.login(USER.email, USER.password);
    const token = t.client.store.getState().accessToken;
    t.client.onForeground();
    await sleep(200);
    expect(t.refreshes()).toBe(0);

    offset = 60_000; // the app was in the background for a minute
    t.client.onForeground();
    await until(() => t.client.store.getState().accessToken !== token, 5000, 'a new access token');
    expect(t.refreshes()).toBe(1);
    expect((await getProfile(t.client.api)).roles).toEqual(['user']);
  });
});
