import type { Transport } from '@/auth/client';

/** The web build never lets a page script see the refresh token: it lives
 * in the server's HttpOnly cookie (cookie transport). */
export const transport: Transport = 'cookie';
