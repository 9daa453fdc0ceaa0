import type { ReactNode } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, View } from 'react-native';
import { useAuth, useAuthClient } from '@/auth/context';

export function Screen({ children }: { children: ReactNode }) {
  return (
    <View style={styles.screen}>
      <OfflineBanner />
      {children}
    </View>
  );
}

export function Button({ title, onPress, testID, disabled }: { title: string; onPress: () => void; testID: string; disabled?: boolean }) {
  return (
    <Pressable
      accessibilityRole="button"
      testID={testID}
      onPress={onPress}
      disabled={disabled}
      style={[styles.button, disabled && styles.disabled]}
    >
      <Text style={styles.buttonText}>{title}</Text>
    </Pressable>
  );
}

export function Loading() {
  return (
    <View style={styles.center}>
      <ActivityIndicator testID="loading" />
    </View>
  );
}

/** "Offline, retrying": the last refresh got no answer (network, timeout,
 * 5xx, 429). The session is kept; the refresh is retried with backoff. */
export function OfflineBanner() {
  const client = useAuthClient();
  const connection = useAuth((s) => s.connection);
  if (connection.state === 'online') return null;
  return (
    <View style={styles.banner} testID="offline-banner">
      <Text style={styles.bannerText}>Offline, retrying (attempt {connection.attempt})</Text>
      <Button title="Retry now" testID="retry-now" onPress={() => client.refresh().catch(() => {})} />
    </View>
  );
}

export const styles = StyleSheet.create({
  screen: { flex: 1, padding: 24, gap: 12, backgroundColor: '#fff' },
  center: { flex: 1, alignItems: 'center', justifyContent: 'center' },
  title: { fontSize: 22, fontWeight: '600' },
  input: { borderWidth: 1, borderColor: '#bbb', borderRadius: 6, padding: 10 },
  button: { backgroundColor: '#1f5fbf', padding: 12, borderRadius: 6, alignItems: 'center' },
  disabled: { opacity: 0.5 },
  buttonText: { color: '#fff', fontWeight: '600' },
  error: { color: '#b00020' },
  notice: { color: '#8a5a00' },
  banner: { backgroundColor: '#fff4d6', padding: 8, borderRadius: 6, gap: 6 },
  bannerText: { color: '#6b4a00' },
  card: { borderWidth: 1, borderColor: '#ddd', borderRadius: 6, padding: 10, gap: 4 },
  row: { flexDirection: 'row', alignItems: 'center', justifyContent: 'space-between', gap: 8 },
});
