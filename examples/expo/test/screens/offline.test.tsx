import { act, fireEvent, screen, waitFor } from 'expo-router/testing-library';
import { renderApp } from './render';
import type { AuthClient } from '@/auth/client';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';

// The app talks to the server through a fault-injecting proxy, so this file
// points EXPO_PUBLIC_API_URL at the proxy before the app's modules load.
let proxy: FaultProxy;
let authClient: AuthClient;

beforeAll(async () => {
  proxy = await startFaultProxy(process.env.EXPO_PUBLIC_API_URL!);
  process.env.EXPO_PUBLIC_API_URL = proxy.url;
  authClient = (require('@/services/api/instance') as typeof import('@/services/api/instance')).authClient;
});
afterAll(async () => {
  authClient.dispose();
  await proxy.close();
});

test('a 503 on refresh shows "Offline, retrying" and keeps the user signed in', async () => {
  // The admin account, so that the other file's "sign out other devices"
  // cannot touch this session.
  await authClient.login('admin@example.com', 'demo-password');
  const router = renderApp('/');
  await screen.findByTestId('profile-text');
  expect(proxy.count('POST', '/auth/login', 200)).toBe(1);

  // The server refuses the access token once, and the refresh meets an outage.
  proxy.failNext('/api/profile', { status: 401 });
  proxy.failNext('/auth/refresh', { status: 503 });
  fireEvent.press(screen.getByTestId('reload-profile'));
  expect(await screen.findByTestId('offline-banner')).toHaveTextContent(/Offline, retrying/);
  expect(router.getPathname()).toBe('/');
  expect(authClient.store.getState().status).toBe('signedIn');

  fireEvent.press(screen.getByTestId('retry-now'));
  await waitFor(() => expect(screen.queryByTestId('offline-banner')).toBeNull());
  expect(proxy.count('POST', '/auth/refresh', 503)).toBe(1);
  expect(proxy.count('POST', '/auth/refresh', 200)).toBeGreaterThanOrEqual(1);
  expect(router.getPathname()).toBe('/');
  expect(authClient.store.getState().status).toBe('signedIn');
  await act(() => authClient.logout());
});
