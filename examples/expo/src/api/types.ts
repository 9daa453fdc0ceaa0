// Types of the authguard HTTP contract (docs/contract.md in the repository):
// the bodies this app sends and receives. They are kept in this one file so
// that it can be replaced by types generated from the OpenAPI description
// without touching the code that imports them.

/** The error codes of the contract's error body (section 10). */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'not_found'
  | 'too_many_requests'
  | 'server_error'
  | 'temporarily_unavailable';

/** Every error of every endpoint and guard has this body. */
export interface ErrorBody {
  error: ErrorCode;
  error_description: string;
}

/** POST /auth/login. */
export interface LoginRequest {
  email: string;
  password: string;
  device?: { name?: string } | null;
}

/** POST /auth/refresh and POST /auth/logout in JSON transport. */
export interface RefreshRequest {
  refreshToken: string;
}

/** The token response of login and refresh (section 9). refreshToken is
 * absent in cookie transport. */
export interface TokenResponse {
  accessToken: string;
  refreshToken?: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresIn: number;
  sessionId: string;
}

/** GET /auth/me. */
export interface MeResponse {
  sub: string;
  roles: string[];
  sessionId: string;
  expiresAt: string;
}

/** One entry of GET /auth/sessions. */
export interface Session {
  id: string;
  device: { name: string };
  ip: string;
  userAgent: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  current: boolean;
}

/** GET /auth/sessions. */
export interface SessionsResponse {
  sessions: Session[];
}

/** GET /api/profile of the example servers. */
export interface Profile {
  sub: string;
  roles: string[];
}

/** GET /api/admin/stats of the example servers (role admin). */
export interface AdminStats {
  users: number;
  store: string;
  startedAt: string;
  uptimeSeconds: number;
}

/** GET /api/reports of the example servers (permission reports/read). */
export interface ReportsResponse {
  reports: { id: string; title: string }[];
}
