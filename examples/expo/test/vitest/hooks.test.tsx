// @vitest-environment happy-dom
import axios from 'axios';
import { QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { createQueryClient, useAdminStats, useLogin, useLogout, useMe, useProfile, useRevokeSession, useSessions, useSignOutOthers } from '@/api/hooks';
import { AuthProvider, useAuth } from '@/auth/context';
import { describeProblem } from '@/auth/errors';
import { useServer } from './server';
import { USER, disposeClients, makeClient, rawLogin } from '../support/clients';

const server = useServer();

beforeAll(() => {
  // happy-dom's XHR enforces CORS from its own origin; a native app is not
  // subject to CORS, so the tests use Node's HTTP adapter.
  axios.defaults.adapter = 'http';
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
});
afterEach(() => disposeClients());

function setup() {
  const t = makeClient(server.url);
  const queryClient = createQueryClient();
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={queryClient}>
      <AuthProvider client={t.client}>{children}</AuthProvider>
    </QueryClientProvider>
  );
  return { ...t, queryClient, wrapper };
}

test('login, profile, a 403 shown as such, sessions, revoke one, sign out others, logout', async () => {
  const { client, wrapper } = setup();
  const { result } = renderHook(
    () => ({
      status: useAuth((s) => s.status),
      login: useLogin(),
      profile: useProfile(),
      me: useMe(),
      stats: useAdminStats(),
      sessions: useSessions(),
      revoke: useRevokeSession(),
      others: useSignOutOthers(),
      logout: useLogout(),
    }),
    { wrapper },
  );
  expect(result.current.profile.fetchStatus).toBe('idle'); // not signed in: no request

  await act(() => result.current.login.mutateAsync(USER));
  expect(result.current.status).toBe('signedIn');
  await waitFor(() => expect(result.current.profile.data?.roles).toEqual(['user']));
  await waitFor(() => expect(result.current.me.data?.sessionId).toBe(client.store.getState().sessionId));
  expect(result.current.me.data!.sub).toBe(result.current.profile.data!.sub);

  // A plain user may not read the admin stats: 403, and still signed in.
  await waitFor(() => expect(result.current.stats.isError).toBe(true));
  expect(describeProblem(result.current.stats.error).kind).toBe('forbidden');
  expect(result.current.status).toBe('signedIn');

  await waitFor(() => expect(result.current.sessions.data).toHaveLength(1));
  // Two more devices of the account.
  const phone = await rawLogin(server.url, USER, 'phone');
  const tablet = await rawLogin(server.url, USER, 'tablet');
  await act(() => result.current.sessions.refetch());
  await waitFor(() => expect(result.current.sessions.data).toHaveLength(3));
  const mine = client.store.getState().sessionId;
  const list = result.current.sessions.data!;
  expect(list.filter((s) => s.current).map((s) => s.id)).toEqual([mine]);
  expect(list.map((s) => s.id)).toEqual(expect.arrayContaining([phone.sessionId, tablet.sessionId]));

  await act(() => result.current.revoke.mutateAsync(phone.sessionId));
  await waitFor(() => expect(result.current.sessions.data?.map((s) => s.id)).not.toContain(phone.sessionId));
  const refused = await axios.post(`${server.url}/auth/refresh`, { refreshToken: phone.refreshToken }).catch((e: unknown) => e);
  expect(axios.isAxiosError(refused) && refused.response?.data.error).toBe('invalid_grant');

  await act(() => result.current.others.mutateAsync());
  await waitFor(() => expect(result.current.sessions.data?.map((s) => s.id)).toEqual([mine]));
  const tabletRefused = await axios.post(`${server.url}/auth/refresh`, { refreshToken: tablet.refreshToken }).catch((e: unknown) => e);
  expect(axios.isAxiosError(tabletRefused) && tabletRefused.response?.status).toBe(400);

  await act(() => result.current.logout.mutateAsync());
  expect(result.current.status).toBe('signedOut');
  expect(client.store.getState().sessionEnded).toBe(false);
});

test('an admin reads the admin stats', async () => {
  const { wrapper } = setup();
  const { result } = renderHook(() => ({ login: useLogin(), stats: useAdminStats() }), { wrapper });
  await act(() => result.current.login.mutateAsync({ email: 'admin@example.com', password: 'demo-password' }));
  await waitFor(() => expect(result.current.stats.data?.store).toBe('sqlite'));
  expect(result.current.stats.data!.users).toBeGreaterThanOrEqual(2);
});
