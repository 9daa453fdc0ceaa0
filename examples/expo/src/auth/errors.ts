import axios from 'axios';
import type { ErrorBody } from '@/api/types';

/** The server said the session is over (400 invalid_grant on refresh, or a
 * 401 on a request retried with a freshly refreshed token). The tokens are
 * gone; the user must log in again. */
export class SessionEndedError extends Error {
  constructor(message = 'the session has ended, log in again') {
    super(message);
    this.name = 'SessionEndedError';
  }
}

/** A refresh could not reach a verdict: a network error, a timeout, a 5xx or
 * a 429. The tokens are kept and the refresh is retried with backoff. */
export class OfflineError extends Error {
  readonly cause: unknown;
  constructor(cause: unknown) {
    super('the server cannot be reached, retrying');
    this.name = 'OfflineError';
    this.cause = cause;
  }
}

/** What an answer (or its absence) means for the client, per the contract's
 * "how a client should react". */
export type Verdict =
  /** 400 invalid_grant: the credential is unusable, the session is over. */
  | 'invalid_grant'
  /** No verdict: network error, timeout, 5xx, 429. Retry later. */
  | 'transient'
  /** Any other answer (400 invalid_request, 403, 404, ...). */
  | 'refused';

export function errorBody(err: unknown): ErrorBody | undefined {
  if (!axios.isAxiosError(err)) return undefined;
  const data: unknown = err.response?.data;
  if (data && typeof data === 'object' && 'error' in data) return data as ErrorBody;
  return undefined;
}

export function verdictOf(err: unknown): Verdict {
  if (err instanceof OfflineError) return 'transient';
  if (!axios.isAxiosError(err)) return 'refused';
  const res = err.response;
  if (!res) return 'transient';
  if (res.status >= 500 || res.status === 429 || res.status === 408) return 'transient';
  if (res.status === 400 && errorBody(err)?.error === 'invalid_grant') return 'invalid_grant';
  return 'refused';
}

/** Seconds of a Retry-After header, when the answer has one. */
export function retryAfterSeconds(err: unknown): number | undefined {
  if (!axios.isAxiosError(err)) return undefined;
  const v = Number(err.response?.headers?.['retry-after']);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** How a screen should present a failed request. */
export type Problem =
  | { kind: 'forbidden'; message: string }
  | { kind: 'offline'; message: string }
  | { kind: 'sessionEnded'; message: string }
  | { kind: 'badCredentials'; message: string }
  | { kind: 'throttled'; message: string }
  | { kind: 'other'; message: string };

export function describeProblem(err: unknown): Problem {
  if (err instanceof SessionEndedError) return { kind: 'sessionEnded', message: 'Your session has ended. Please sign in again.' };
  if (verdictOf(err) === 'transient') {
    const after = retryAfterSeconds(err);
    if (axios.isAxiosError(err) && err.response?.status === 429) {
      return { kind: 'throttled', message: `Too many attempts, try again in ${after ?? 'a few'} seconds.` };
    }
    // A refresh that got no verdict is retried by the client itself.
    if (err instanceof OfflineError) return { kind: 'offline', message: 'Offline, retrying.' };
    return { kind: 'offline', message: 'The server cannot be reached. Try again.' };
  }
  const body = errorBody(err);
  if (body?.error === 'insufficient_scope') return { kind: 'forbidden', message: 'Not allowed: your account lacks the role or permission for this.' };
  if (body?.error === 'invalid_grant') return { kind: 'badCredentials', message: 'Wrong e-mail or password.' };
  if (body) return { kind: 'other', message: body.error_description };
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}
