import axios, { type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { LoginRequest, TokenResponse } from '@/api/types';
import type { BiometricGate, UnlockResult } from '@/services/storage/biometric';
import type { SecureStorage } from '@/services/storage/types';
import { OfflineError, SessionEndedError, retryAfterSeconds, verdictOf } from './errors';

/** How the refresh token travels: in JSON bodies (native apps, kept in the
 * keystore) or in the HttpOnly refresh cookie (web). */
export type Transport = 'json' | 'cookie';

export type AuthStatus =
  /** Reading the keystore at start. */
  | 'restoring'
  | 'signedOut'
  /** A session is on the device but the biometric check was not passed. */
  | 'locked'
  | 'signedIn';

export type Connection =
  | { state: 'online' }
  /** The last refresh got no verdict; another is scheduled at retryAt. */
  | { state: 'offline'; attempt: number; retryAt: number };

/** The reactive part of the auth state. The refresh token is deliberately
 * not in it: no component can render or log it. */
export interface AuthState {
  status: AuthStatus;
  accessToken: string | null;
  sessionId: string | null;
  connection: Connection;
  biometricEnabled: boolean;
  /** Set when the server ended the session (not by the user's logout). */
  sessionEnded: boolean;
}

export interface AuthClientOptions {
  baseURL: string;
  storage: SecureStorage;
  biometric: BiometricGate;
  transport?: Transport;
  /** Shown in the session list of the account. */
  deviceName?: string;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  /** Refresh shortly before the access token expires (default true). */
  silentRefresh?: boolean;
  /** Backoff of refresh retries after a transient failure. */
  backoff?: { baseMs: number; maxMs: number };
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

export interface AuthClient {
  readonly store: StoreApi<AuthState>;
  /** For guarded routes: attaches the bearer, refreshes once on 401. */
  readonly api: AxiosInstance;
  /** For the token endpoints: no bearer, no 401 handling. */
  readonly bare: AxiosInstance;
  /** Restores a session from the keystore (JSON transport) or the refresh
   * cookie (cookie transport), behind the biometric check when it is on. */
  restore(): Promise<void>;
  /** Passes the biometric check of a locked session. */
  unlock(): Promise<UnlockResult>;
  login(email: string, password: string): Promise<void>;
  /** Ends this session on the server, then locally. A 503 or network error
   * keeps the tokens and throws: nothing was revoked (contract). */
  logout(): Promise<void>;
  /** The one shared refresh: concurrent callers get the same promise. */
  refresh(): Promise<string>;
  /** Turns the biometric check on (after a successful check) or off.
   * Returns false when it cannot be turned on. */
  setBiometric(on: boolean): Promise<boolean>;
  /** Call when the app returns to the foreground. */
  onForeground(): void;
  /** Stops the timers (tests, hot reload). */
  dispose(): void;
}

export const storageKeys = {
  refreshToken: 'authguard.refresh-token',
  /** Non-secret marker: a session is on the device (its id). */
  session: 'authguard.session',
  biometric: 'authguard.biometric',
} as const;

// _refreshed: the request was retried with the token of a refresh it
// awaited. _retried: it was retried with a newer token another request had
// already obtained (which may itself have expired since).
type RetriableConfig = InternalAxiosRequestConfig & { _refreshed?: boolean; _retried?: boolean };

const signedOut = {
  status: 'signedOut',
  accessToken: null,
  sessionId: null,
  connection: { state: 'online' },
} as const;

export function createAuthClient(opts: AuthClientOptions): AuthClient {
  const transport = opts.transport ?? 'json';
  const cookie = transport === 'cookie';
  const now = opts.now ?? Date.now;
  const backoff = opts.backoff ?? { baseMs: 1000, maxMs: 60_000 };
  const storage = opts.storage;

  const store = createStore<AuthState>(() => ({
    status: 'restoring',
    accessToken: null,
    sessionId: null,
    connection: { state: 'online' },
    biometricEnabled: false,
    sessionEnded: false,
  }));

  const common = { baseURL: opts.baseURL, timeout: opts.timeoutMs ?? 15_000 };
  const bare = axios.create({ ...common, withCredentials: cookie });
  const api = axios.create(common);
  const cookieHeaders = cookie ? { 'X-Auth-Transport': 'cookie' } : {};

  let refreshToken: string | null = null; // JSON transport only
  let inflight: Promise<string> | null = null;
  let refreshDueAt = 0;
  let silentTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  // Bumped whenever a session starts or ends, so that a refresh answered
  // after a logout cannot bring the old session back.
  let epoch = 0;

  const clearTimers = () => {
    clearTimeout(silentTimer);
    clearTimeout(retryTimer);
    silentTimer = retryTimer = undefined;
  };

  const scheduleSilent = (delayMs: number) => {
    clearTimeout(silentTimer);
    silentTimer = undefined;
    if (opts.silentRefresh === false) return;
    silentTimer = setTimeout(() => {
      refresh().catch(() => {}); // the outcome is in the store
    }, Math.max(0, delayMs));
  };

  // Takes a token response: keeps the refresh token (keystore first, so a
  // crash cannot lose it; the previous one stays usable as a replay), then
  // publishes the new access token and plans the silent refresh.
  const adopt = async (tok: TokenResponse, at: number) => {
    if (!cookie) {
      if (!tok.refreshToken) throw new Error('token response without refreshToken in JSON transport');
      refreshToken = tok.refreshToken;
      await storage.setItem(storageKeys.refreshToken, tok.refreshToken);
    }
    await storage.setItem(storageKeys.session, tok.sessionId);
    clearTimeout(retryTimer);
    retryTimer = undefined;
    store.setState({
      status: 'signedIn',
      accessToken: tok.accessToken,
      sessionId: tok.sessionId,
      connection: { state: 'online' },
      sessionEnded: false,
    });
    // exp is a whole second, so the token may expire up to 1 s before
    // expiresIn says. Refresh with a lead of 20% (at most a minute), and
    // never before half the lifetime.
    const lead = Math.min(60, tok.expiresIn * 0.2);
    const delay = Math.max(tok.expiresIn * 0.5, tok.expiresIn - 1 - lead) * 1000;
    refreshDueAt = at + delay;
    scheduleSilent(delay);
  };

  const end = async (byServer: boolean) => {
    epoch++;
    clearTimers();
    refreshToken = null;
    store.setState({ ...signedOut, sessionEnded: byServer });
    await Promise.all([storage.deleteItem(storageKeys.refreshToken), storage.deleteItem(storageKeys.session)]);
  };

  const goOffline = (err: unknown) => {
    const prev = store.getState().connection;
    const attempt = prev.state === 'offline' ? prev.attempt + 1 : 1;
    let delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
    delay = delay / 2 + (Math.random() * delay) / 2;
    const after = retryAfterSeconds(err);
    if (after !== undefined) delay = Math.max(delay, after * 1000);
    store.setState({ connection: { state: 'offline', attempt, retryAt: now() + delay } });
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      refresh().catch(() => {});
    }, delay);
  };

  const doRefresh = async (): Promise<string> => {
    const mine = epoch;
    if (!cookie && !refreshToken) throw new SessionEndedError('not signed in');
    const at = now();
    try {
      const { data } = await bare.post<TokenResponse>(
        '/auth/refresh',
        cookie ? undefined : { refreshToken },
        { headers: cookieHeaders },
      );
      if (mine !== epoch) throw new SessionEndedError('signed out during the refresh');
      await adopt(data, at);
      return data.accessToken;
    } catch (err) {
      if (err instanceof SessionEndedError || mine !== epoch) throw err;
      const verdict = verdictOf(err);
      // Only the server's "this credential is over" ends the session; in
      // cookie transport a refusal also means there is no usable cookie.
      if (verdict === 'invalid_grant' || (cookie && verdict === 'refused')) {
        await end(true);
        throw new SessionEndedError();
      }
      if (verdict === 'transient') {
        goOffline(err);
        throw new OfflineError(err);
      }
      throw err;
    }
  };

  const refresh = (): Promise<string> => {
    if (!inflight) {
      inflight = doRefresh().finally(() => {
        inflight = null;
      });
    }
    return inflight;
  };

  api.interceptors.request.use(async (config) => {
    const s = store.getState();
    let token = s.accessToken;
    // Restored or offline without an access token yet: refresh first.
    if (!token && s.status === 'signedIn') token = await refresh();
    if (token) config.headers.set('Authorization', `Bearer ${token}`);
    return config;
  });

  api.interceptors.response.use(undefined, async (error: unknown) => {
    if (!axios.isAxiosError(error) || error.response?.status !== 401 || !error.config) throw error;
    const config = error.config as RetriableConfig;
    const s = store.getState();
    if (s.status !== 'signedIn') throw new SessionEndedError('not signed in');
    if (config._refreshed) {
      // A token fresh from a successful refresh was refused: the session
      // was ended on the server.
      await end(true);
      throw new SessionEndedError();
    }
    const sent = String(config.headers.get('Authorization') ?? '').replace(/^Bearer /, '');
    if (!config._retried && s.accessToken && s.accessToken !== sent) {
      // Another request has already refreshed: use its token, do not
      // refresh again.
      config._retried = true;
    } else {
      // Join (or start) the one shared refresh; if it fails, this request
      // fails with it.
      await refresh();
      config._refreshed = true;
    }
    // The request interceptor attaches the current access token.
    config.headers.delete('Authorization');
    return api.request(config);
  });

  const startFromStorage = async (): Promise<void> => {
    if (!cookie) {
      refreshToken = await storage.getItem(storageKeys.refreshToken);
      if (!refreshToken) {
        await end(false);
        return;
      }
    }
    store.setState({ status: 'signedIn', accessToken: null, sessionEnded: false });
    try {
      await refresh();
    } catch {
      // Offline: stays signed in and retries. Session over: signed out. On
      // the web a page without a refresh cookie simply was not signed in.
      if (cookie && store.getState().status === 'signedOut') store.setState({ sessionEnded: false });
    }
  };

  return {
    store,
    api,
    bare,
    refresh,

    async restore() {
      const biometricEnabled = (await storage.getItem(storageKeys.biometric)) === '1';
      const sessionId = await storage.getItem(storageKeys.session);
      store.setState({ biometricEnabled, sessionId });
      if (!cookie && !sessionId) {
        store.setState({ ...signedOut });
        return;
      }
      if (biometricEnabled && !cookie) {
        const r = await opts.biometric.unlock('Unlock your session');
        if (r === 'denied') {
          store.setState({ status: 'locked' });
          return;
        }
      }
      await startFromStorage();
    },

    async unlock() {
      const r = await opts.biometric.unlock('Unlock your session');
      if (r !== 'denied') await startFromStorage();
      return r;
    },

    async login(email, password) {
      const body: LoginRequest = { email, password, device: { name: opts.deviceName ?? '' } };
      const at = now();
      const { data } = await bare.post<TokenResponse>('/auth/login', body, { headers: cookieHeaders });
      epoch++;
      clearTimers();
      await adopt(data, at);
    },

    async logout() {
      const token = store.getState().accessToken;
      const body = !cookie && refreshToken ? { refreshToken } : undefined;
      const headers = { ...cookieHeaders, ...(!body && token ? { Authorization: `Bearer ${token}` } : {}) };
      if (body || cookie || token) {
        try {
          await bare.post('/auth/logout', body, { headers });
        } catch (err) {
          // 503 or no answer: nothing was revoked; keep the tokens.
          if (verdictOf(err) === 'transient') throw new OfflineError(err);
          // 400: there was nothing to end on the server.
        }
      }
      await end(false);
    },

    async setBiometric(on) {
      if (!on) {
        await storage.deleteItem(storageKeys.biometric);
        store.setState({ biometricEnabled: false });
        return true;
      }
      if ((await opts.biometric.unlock('Confirm to turn on biometric unlock')) !== 'unlocked') return false;
      await storage.setItem(storageKeys.biometric, '1');
      store.setState({ biometricEnabled: true });
      return true;
    },

    onForeground() {
      const s = store.getState();
      if (s.status !== 'signedIn') return;
      // Timers do not run while the app is suspended: catch up now.
      if (s.connection.state === 'offline' || !s.accessToken || now() >= refreshDueAt) {
        refresh().catch(() => {});
      } else {
        scheduleSilent(refreshDueAt - now());
      }
    },

    dispose: clearTimers,
  };
}
