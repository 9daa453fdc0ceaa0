import axios from 'axios';
import { createAuthClient, type AuthClient, type AuthClientOptions } from '@/auth/client';
import type { BiometricGate, UnlockResult } from '@/services/storage/biometric';
import type { SecureStorage } from '@/services/storage/types';
import type { TokenResponse } from '@/api/types';

export const USER = { email: 'user@example.com', password: 'demo-password' };
export const ADMIN = { email: 'admin@example.com', password: 'demo-password' };

/** An in-memory keystore whose items a test can inspect. */
export function memoryStorage(): SecureStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: async (k) => items.get(k) ?? null,
    setItem: async (k, v) => {
      items.set(k, v);
    },
    deleteItem: async (k) => {
      items.delete(k);
    },
  };
}

/** A biometric gate answering what the test says. */
export function scriptedGate(answer: UnlockResult = 'unavailable'): BiometricGate & { answer: UnlockResult; calls: number } {
  const gate = {
    answer,
    calls: 0,
    available: async () => gate.answer !== 'unavailable',
    unlock: async () => {
      gate.calls++;
      return gate.answer;
    },
  };
  return gate;
}

export interface TestClient {
  client: AuthClient;
  storage: ReturnType<typeof memoryStorage>;
  /** Refresh requests sent through the bare client. */
  refreshes(): number;
}

const live: AuthClient[] = [];

/** A client with test-sized timeouts and backoff; refreshes are counted by
 * an interceptor on the bare client that sends them. */
export function makeClient(baseURL: string, over: Partial<AuthClientOptions> = {}): TestClient {
  const storage = (over.storage as ReturnType<typeof memoryStorage> | undefined) ?? memoryStorage();
  const client = createAuthClient({
    baseURL,
    biometric: scriptedGate(),
    deviceName: 'vitest',
    timeoutMs: 1000,
    backoff: { baseMs: 100, maxMs: 400 },
    ...over,
    storage,
  });
  let refreshes = 0;
  client.bare.interceptors.request.use((c) => {
    if (c.url === '/auth/refresh') refreshes++;
    return c;
  });
  live.push(client);
  return { client, storage, refreshes: () => refreshes };
}

/** Stops the timers of every client made so far. */
export function disposeClients() {
  for (const c of live.splice(0)) c.dispose();
}

/** A login outside any client under test (another device). */
export async function rawLogin(baseURL: string, who = USER, device = 'other device'): Promise<TokenResponse> {
  const { data } = await axios.post<TokenResponse>(`${baseURL}/auth/login`, { ...who, device: { name: device } });
  return data;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() holds, or fails after timeoutMs. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Rejects if p has not settled within ms: a hung request fails the test. */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`still pending after ${ms} ms`)))]);
}
