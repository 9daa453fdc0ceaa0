import { renderRouter } from 'expo-router/testing-library';

/**
 * renderRouter, then back to real timers. renderRouter turns on jest's fake
 * timers and leaves them on; the screens here wait for a real server, and
 * under fake timers waitFor's timeout is fake time that passes in a blink,
 * while the app's own timers (silent refresh, backoff, request timeouts)
 * would fire when waitFor advances the clock rather than when they are due.
 */
export function renderApp(initialUrl: string) {
  const router = renderRouter('./app', { initialUrl });
  jest.useRealTimers();
  return router;
}
