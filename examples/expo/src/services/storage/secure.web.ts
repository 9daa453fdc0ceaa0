import type { SecureStorage } from './types';

// expo-secure-store has no web implementation, and a browser has no place
// for a secret that page scripts cannot read. The web build therefore uses
// the contract's cookie transport: the refresh token lives only in an
// HttpOnly cookie, never in JavaScript, and this storage keeps only
// non-secret preferences, in memory. After a reload the session is restored
// by a cookie-transport refresh.
const items = new Map<string, string>();

export const secureStorage: SecureStorage = {
  getItem: async (key) => items.get(key) ?? null,
  setItem: async (key, value) => {
    items.set(key, value);
  },
  deleteItem: async (key) => {
    items.delete(key);
  },
};
