import { Link } from 'expo-router';
import { useState } from 'react';
import { Switch, Text, View } from 'react-native';
import { useAdminStats, useLogout, useMe, useProfile } from '@/api/hooks';
import { useAuth, useAuthClient } from '@/auth/context';
import { describeProblem } from '@/auth/errors';
import { Button, Screen, styles } from '@/components/ui';

export default function Home() {
  const client = useAuthClient();
  const biometricEnabled = useAuth((s) => s.biometricEnabled);
  const profile = useProfile();
  const me = useMe();
  const stats = useAdminStats();
  const logout = useLogout();
  const [biometricMessage, setBiometricMessage] = useState('');

  return (
    <Screen>
      <View style={styles.card}>
        {profile.data && (
          <Text testID="profile-text">
            Signed in as {profile.data.sub} ({profile.data.roles.join(', ') || 'no roles'})
          </Text>
        )}
        {profile.isPending && <Text>Loading profile…</Text>}
        {profile.error && (
          <Text style={styles.error} testID="profile-error">
            {describeProblem(profile.error).message}
          </Text>
        )}
        {me.data && (
          <Text testID="session-text">
            Session {me.data.sessionId}, access token valid until {me.data.expiresAt}
          </Text>
        )}
        <Button title="Reload profile" testID="reload-profile" onPress={() => profile.refetch()} />
      </View>

      <View style={styles.card} testID="admin-stats">
        <Text style={{ fontWeight: '600' }}>Admin statistics</Text>
        {stats.data && (
          <Text testID="admin-stats-data">
            {stats.data.users} users, {stats.data.store} store, up {stats.data.uptimeSeconds} s
          </Text>
        )}
        {stats.error && (
          <Text style={styles.notice} testID={describeProblem(stats.error).kind === 'forbidden' ? 'admin-forbidden' : 'admin-error'}>
            {describeProblem(stats.error).message}
          </Text>
        )}
      </View>

      <View style={styles.row}>
        <Text>Unlock with biometrics</Text>
        <Switch
          testID="biometric-toggle"
          value={biometricEnabled}
          onValueChange={(on) => {
            // Without hardware or enrolment the check stays off and the
            // session unlocks as before.
            void client.setBiometric(on).then((ok) => setBiometricMessage(ok ? '' : 'Biometric unlock is not available.'));
          }}
        />
      </View>
      {!!biometricMessage && <Text style={styles.notice}>{biometricMessage}</Text>}

      <Link href="/sessions" testID="sessions-link" style={styles.button}>
        <Text style={styles.buttonText}>Sessions and devices</Text>
      </Link>
      <Button title="Sign out" testID="logout-button" disabled={logout.isPending} onPress={() => logout.mutate()} />
      {logout.error && (
        <Text style={styles.error} testID="logout-error">
          Could not sign out: {describeProblem(logout.error).message}
        </Text>
      )}
    </Screen>
  );
}
