import { Redirect, Stack } from 'expo-router';
import { useAuth } from '@/auth/context';
import { Loading } from '@/components/ui';

export default function AuthLayout() {
  const status = useAuth((s) => s.status);
  if (status === 'restoring') return <Loading />;
  if (status === 'signedIn') return <Redirect href="/" />;
  return <Stack screenOptions={{ headerShown: false }} />;
}
