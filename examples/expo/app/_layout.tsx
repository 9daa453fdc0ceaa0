import { QueryClientProvider } from '@tanstack/react-query';
import { Stack } from 'expo-router';
import { useEffect, useState } from 'react';
import { AppState } from 'react-native';
import { createQueryClient } from '@/api/hooks';
import { AuthProvider } from '@/auth/context';
import { authClient } from '@/services/api/instance';

let restoring: Promise<void> | undefined;

export default function RootLayout() {
  const [queryClient] = useState(createQueryClient);

  useEffect(() => {
    if (authClient.store.getState().status === 'restoring') restoring ??= authClient.restore();
    // Timers stop while the app is in the background: refresh on return.
    const sub = AppState.addEventListener('change', (state) => {
      if (state === 'active') authClient.onForeground();
    });
    // Cached data of a session that ended must not be shown to the next.
    const unsubscribe = authClient.store.subscribe((s, prev) => {
      if (s.status === 'signedOut' && prev.status !== 'signedOut') queryClient.clear();
    });
    return () => {
      sub.remove();
      unsubscribe();
    };
  }, [queryClient]);

  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider client={authClient}>
        <Stack screenOptions={{ headerShown: false }} />
      </AuthProvider>
    </QueryClientProvider>
  );
}
