import * as SecureStore from 'expo-secure-store';
import type { SecureStorage } from './types';

// Items are readable only while the device is unlocked and never leave the
// device in a backup.
const options: SecureStore.SecureStoreOptions = {
  keychainAccessible: SecureStore.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
};

/** The platform keystore (native). The web build uses secure.web.ts. */
export const secureStorage: SecureStorage = {
  getItem: (key) => SecureStore.getItemAsync(key, options),
  setItem: (key, value) => SecureStore.setItemAsync(key, value, options),
  deleteItem: (key) => SecureStore.deleteItemAsync(key, options),
};
