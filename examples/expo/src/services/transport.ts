import type { Transport } from '@/auth/client';

/** Native apps keep the refresh token in the keystore (JSON transport). */
export const transport: Transport = 'json';
