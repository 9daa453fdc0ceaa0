// Types of the authguard HTTP contract, taken from the types generated from
// the repository's OpenAPI description (docs/openapi.yaml) into
// openapi.gen.ts by `npm run gen:types`. This file only gives the bodies
// this app sends and receives short names; it declares no shape of its own,
// so the app cannot drift from the description (the test script fails when
// the generated file is not current).
import type { components, operations } from './openapi.gen';

type Schemas = components['schemas'];
/** The JSON body of an operation's 200 answer. */
type OK<Op extends keyof operations> = operations[Op]['responses'] extends {
  200: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

/** Every error of every endpoint and guard has this body. */
export type ErrorBody = Schemas['Error'];

/** The error codes of the contract's error body. */
export type ErrorCode = ErrorBody['error'];

/** POST /auth/login. */
export type LoginRequest = Schemas['LoginRequest'];

/** POST /auth/refresh and POST /auth/logout in JSON transport. */
export type RefreshRequest = Schemas['RefreshRequest'];

/** The token response of login and refresh. refreshToken is absent in
 * cookie transport. */
export type TokenResponse = Schemas['TokenResponse'];

/** GET /auth/me. */
export type MeResponse = Schemas['Me'];

/** One entry of GET /auth/sessions. */
export type Session = Schemas['Session'];

/** GET /auth/sessions. */
export type SessionsResponse = Schemas['SessionList'];

/** GET /api/profile of the example servers. */
export type Profile = OK<'profile'>;

/** GET /api/admin/stats of the example servers (role admin). */
export type AdminStats = OK<'adminStats'>;

/** GET /api/reports of the example servers (permission reports/read). */
export type ReportsResponse = OK<'listReports'>;
