import { ScrollView, Text, View } from 'react-native';
import { useRevokeSession, useSessions, useSignOutOthers } from '@/api/hooks';
import { describeProblem } from '@/auth/errors';
import { Button, Screen, styles } from '@/components/ui';

export default function Sessions() {
  const sessions = useSessions();
  const revoke = useRevokeSession();
  const others = useSignOutOthers();
  // This device first, then the most recently used.
  const list = [...(sessions.data ?? [])].sort(
    (a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt.localeCompare(a.lastUsedAt),
  );
  const error = sessions.error ?? revoke.error ?? others.error;

  return (
    <Screen>
      {sessions.isPending && <Text>Loading sessions…</Text>}
      {error && (
        <Text style={styles.error} testID="sessions-error">
          {describeProblem(error).message}
        </Text>
      )}
      <ScrollView contentContainerStyle={{ gap: 8 }}>
        {list.map((s) => (
          <View key={s.id} style={styles.card} testID={`session-${s.id}`}>
            <View style={styles.row}>
              <Text style={{ fontWeight: '600' }}>{s.device.name || 'Unnamed device'}</Text>
              {s.current && <Text testID="this-device">This device</Text>}
            </View>
            <Text>
              {s.ip} · last used {s.lastUsedAt}
            </Text>
            <Button
              title={s.current ? 'Sign out this device' : 'Revoke'}
              testID={`revoke-${s.id}`}
              disabled={revoke.isPending}
              onPress={() => revoke.mutate(s.id)}
            />
          </View>
        ))}
      </ScrollView>
      <Button
        title="Sign out all other devices"
        testID="sign-out-others"
        disabled={others.isPending || list.length < 2}
        onPress={() => others.mutate()}
      />
    </Screen>
  );
}
