import { useState } from 'react';
import { Text, TextInput } from 'react-native';
import { useLogin } from '@/api/hooks';
import { useAuth, useAuthClient } from '@/auth/context';
import { describeProblem } from '@/auth/errors';
import { Button, Screen, styles } from '@/components/ui';

export default function Login() {
  const client = useAuthClient();
  const status = useAuth((s) => s.status);
  const sessionEnded = useAuth((s) => s.sessionEnded);
  const login = useLogin();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [unlockMessage, setUnlockMessage] = useState('');

  return (
    <Screen>
      <Text style={styles.title}>Sign in</Text>
      {sessionEnded && (
        <Text style={styles.notice} testID="session-ended">
          Your session has ended. Please sign in again.
        </Text>
      )}
      {status === 'locked' && (
        <>
          <Button
            title="Unlock with biometrics"
            testID="unlock-button"
            onPress={async () => {
              const r = await client.unlock();
              setUnlockMessage(r === 'denied' ? 'Not unlocked. Try again, or sign in with your password.' : '');
            }}
          />
          {!!unlockMessage && <Text style={styles.error}>{unlockMessage}</Text>}
        </>
      )}
      <TextInput
        style={styles.input}
        testID="login-email"
        placeholder="E-mail"
        autoCapitalize="none"
        autoComplete="email"
        keyboardType="email-address"
        value={email}
        onChangeText={setEmail}
      />
      <TextInput
        style={styles.input}
        testID="login-password"
        placeholder="Password"
        secureTextEntry
        autoComplete="password"
        value={password}
        onChangeText={setPassword}
      />
      <Button
        title={login.isPending ? 'Signing in…' : 'Sign in'}
        testID="login-submit"
        disabled={login.isPending || !email || !password}
        onPress={() => login.mutate({ email, password })}
      />
      {login.error && (
        <Text style={styles.error} testID="login-error">
          {describeProblem(login.error).message}
        </Text>
      )}
    </Screen>
  );
}
