import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { AuthClient, AuthState } from './client';

const AuthContext = createContext<AuthClient | null>(null);

export function AuthProvider({ client, children }: { client: AuthClient; children: ReactNode }) {
  return <AuthContext.Provider value={client}>{children}</AuthContext.Provider>;
}

export function useAuthClient(): AuthClient {
  const client = useContext(AuthContext);
  if (!client) throw new Error('useAuthClient outside AuthProvider');
  return client;
}

/** Subscribes to a slice of the auth state (a Zustand store). */
export function useAuth<T>(selector: (s: AuthState) => T): T {
  return useStore(useAuthClient().store, selector);
}
