import { QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { SessionEndedError, verdictOf } from '@/auth/errors';
import { useAuth, useAuthClient } from '@/auth/context';
import { deleteOtherSessions, deleteSession, getAdminStats, getMe, getProfile, getSessions } from './endpoints';

export const queryKeys = {
  me: ['me'] as const,
  profile: ['profile'] as const,
  adminStats: ['adminStats'] as const,
  sessions: ['sessions'] as const,
};

/** Retries only what may succeed later (network, timeout, 5xx, 429), never
 * a 403 or an ended session. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, err) => !(err instanceof SessionEndedError) && verdictOf(err) === 'transient' && count < 3,
        retryDelay: (n) => Math.min(1000 * 2 ** n, 10_000),
      },
      mutations: { retry: false },
    },
  });
}

// Queries run only while signed in with a session to ask about.
const useSignedIn = () => useAuth((s) => s.status === 'signedIn');

export function useMe() {
  const { api } = useAuthClient();
  return useQuery({ queryKey: queryKeys.me, queryFn: () => getMe(api), enabled: useSignedIn() });
}

export function useProfile() {
  const { api } = useAuthClient();
  return useQuery({ queryKey: queryKeys.profile, queryFn: () => getProfile(api), enabled: useSignedIn() });
}

/** GET /api/admin/stats: a plain user gets 403, which is an error of this
 * query (shown as "not allowed"), never a logout. */
export function useAdminStats() {
  const { api } = useAuthClient();
  return useQuery({ queryKey: queryKeys.adminStats, queryFn: () => getAdminStats(api), enabled: useSignedIn() });
}

export function useSessions() {
  const { api } = useAuthClient();
  return useQuery({ queryKey: queryKeys.sessions, queryFn: () => getSessions(api), enabled: useSignedIn() });
}

export function useLogin() {
  const client = useAuthClient();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ email, password }: { email: string; password: string }) => client.login(email, password),
    onSuccess: () => qc.clear(),
  });
}

export function useLogout() {
  const client = useAuthClient();
  const qc = useQueryClient();
  return useMutation({ mutationFn: () => client.logout(), onSuccess: () => qc.clear() });
}

/** Ends one session of the account; ending this device's own is a logout. */
export function useRevokeSession() {
  const client = useAuthClient();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      if (id === client.store.getState().sessionId) return client.logout();
      await deleteSession(client.api, id);
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.sessions }),
  });
}

export function useSignOutOthers() {
  const client = useAuthClient();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => deleteOtherSessions(client.api),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.sessions }),
  });
}
