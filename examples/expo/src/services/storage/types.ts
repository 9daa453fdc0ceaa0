/** Key-value storage for secrets. On native it is the platform keystore
 * (iOS Keychain, Android Keystore) through expo-secure-store. */
export interface SecureStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  deleteItem(key: string): Promise<void>;
}
