// The tests' stand-in for expo-secure-store, whose Keychain/Keystore exists
// only on a device: the same functions over a Map.
export const items = new Map<string, string>();

export const WHEN_UNLOCKED_THIS_DEVICE_ONLY = 6;

export async function getItemAsync(key: string): Promise<string | null> {
  return items.get(key) ?? null;
}

export async function setItemAsync(key: string, value: string): Promise<void> {
  items.set(key, value);
}

export async function deleteItemAsync(key: string): Promise<void> {
  items.delete(key);
}
