// The web build's cookie transport. Node has no cookie jar, so a minimal one
// stands in for the browser's: it keeps what Set-Cookie says and sends it
// back to /auth/ paths, as the browser does for Path=/auth.
import axios, { type AxiosResponse } from 'axios';
import { afterEach, describe, expect, test } from 'vitest';
import { getProfile } from '@/api/endpoints';
import type { AuthClient } from '@/auth/client';
import { SessionEndedError } from '@/auth/errors';
import { useServer } from './server';
import { USER, disposeClients, makeClient, rawLogin, sleep } from '../support/clients';

const server = useServer();
afterEach(() => disposeClients());

const COOKIE = '__Secure-authguard-refresh';

function browserJar() {
  const jar = { value: undefined as string | undefined, attributes: [] as string[], sent: 0 };
  const take = (res?: AxiosResponse) => {
    for (const line of (res?.headers['set-cookie'] as string[] | undefined) ?? []) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const [name, value = ''] = pair.split('=');
      if (name !== COOKIE) continue;
      jar.attributes = attrs;
      jar.value = value === '' || attrs.includes('Max-Age=0') ? undefined : value;
    }
  };
  return {
    jar,
    attach(client: AuthClient) {
      client.bare.interceptors.request.use((c) => {
        if (jar.value && c.url?.startsWith('/auth/')) {
          c.headers.set('Cookie', `${COOKIE}=${jar.value}`);
          jar.sent++;
        }
        return c;
      });
      client.bare.interceptors.response.use(
        (res) => (take(res), res),
        (err: unknown) => {
          if (axios.isAxiosError(err)) take(err.response);
          throw err;
        },
      );
      return client;
    },
  };
}

describe('cookie transport (web)', () => {
  test('the refresh token is only in the HttpOnly cookie; refresh, reload and logout go through it', async () => {
    const browser = browserJar();
    const page = makeClient(server.url, { transport: 'cookie', silentRefresh: false });
    browser.attach(page.client);
    const bodies: unknown[] = [];
    page.client.bare.interceptors.request.use((c) => (bodies.push(c.data), c));

    await page.client.login(USER.email, USER.password);
    expect(page.client.store.getState().status).toBe('signedIn');
    expect(browser.jar.value).toMatch(/^[\w-]{43,}$/);
    expect(browser.jar.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'Path=/auth']));
    // Nothing the page keeps holds the refresh token.
    expect(JSON.stringify([...page.storage.items.values()])).not.toContain(browser.jar.value);
    expect(JSON.stringify(page.client.store.getState())).not.toContain(browser.jar.value);

    // An expired access token: one refresh, with the cookie and no body.
    const first = browser.jar.value;
    await sleep(2100);
    expect((await getProfile(page.client.api)).roles).toEqual(['user']);
    expect(page.refreshes()).toBe(1);
    expect(bodies.at(-1)).toBeUndefined();
    expect(browser.jar.value).not.toBe(first);

    // A reload: memory is gone, the cookie is not.
    const reloaded = makeClient(server.url, { transport: 'cookie' });
    browser.attach(reloaded.client);
    await reloaded.client.restore();
    expect(reloaded.client.store.getState().status).toBe('signedIn');
    expect((await getProfile(reloaded.client.api)).roles).toEqual(['user']);

    await reloaded.client.logout();
    expect(reloaded.client.store.getState().status).toBe('signedOut');
    expect(browser.jar.value).toBeUndefined();

    // Without a cookie a page load is simply signed out.
    const fresh = makeClient(server.url, { transport: 'cookie' });
    browser.attach(fresh.client);
    await fresh.client.restore();
    expect(fresh.client.store.getState()).toMatchObject({ status: 'signedOut', sessionEnded: false });
  });

  test('a session revoked elsewhere: the cookie refresh gets invalid_grant, the page signs out', async () => {
    const browser = browserJar();
    const page = makeClient(server.url, { transport: 'cookie', silentRefresh: false });
    browser.attach(page.client);
    await page.client.login(USER.email, USER.password);
    const other = await rawLogin(server.url);
    await axios.delete(`${server.url}/auth/sessions`, { headers: { Authorization: `Bearer ${other.accessToken}` } });
    await expect(getProfile(page.client.api)).rejects.toBeInstanceOf(SessionEndedError);
    expect(page.client.store.getState()).toMatchObject({ status: 'signedOut', sessionEnded: true });
    expect(browser.jar.value).toBeUndefined();
  });
});
