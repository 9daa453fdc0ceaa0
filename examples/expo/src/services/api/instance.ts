import Constants from 'expo-constants';
import { Platform } from 'react-native';
import { createAuthClient } from '@/auth/client';
import { biometricGate } from '@/services/storage/biometric';
import { secureStorage } from '@/services/storage/secure';
import { transport } from '@/services/transport';

/** The server's base URL, inlined at build time. Empty means the page's own
 * origin (a web build served next to the API). */
export const apiURL = process.env.EXPO_PUBLIC_API_URL ?? 'http://127.0.0.1:8080';

/** The app's one auth client. */
export const authClient = createAuthClient({
  baseURL: apiURL,
  storage: secureStorage,
  biometric: biometricGate,
  transport,
  deviceName: Constants.deviceName ?? `Expo app (${Platform.OS})`,
});
