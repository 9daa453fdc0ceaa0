import { Redirect, Stack } from 'expo-router';
import { useAuth } from '@/auth/context';
import { Loading } from '@/components/ui';

/** Everything in this group needs a session. */
export default function AppLayout() {
  const status = useAuth((s) => s.status);
  if (status === 'restoring') return <Loading />;
  if (status !== 'signedIn') return <Redirect href="/login" />;
  return (
    <Stack>
      <Stack.Screen name="index" options={{ title: 'Home' }} />
      <Stack.Screen name="sessions" options={{ title: 'Sessions' }} />
    </Stack>
  );
}
