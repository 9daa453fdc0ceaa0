// A small HTTP proxy between a client under test and the real server: it
// forwards everything, records each exchange, and answers the next requests
// of a path with the faults a test queues (a status, a dropped connection,
// a hang). The server never fails on demand; this is the test's own fault
// injection.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer with this status and the contract's error body (after delayMs). */
  | { status: number; error?: string; retryAfter?: number; delayMs?: number }
  /** Close the connection without an answer. */
  | { drop: true }
  /** Answer nothing for this long, then close. */
  | { hangMs: number };

export interface Exchange {
  method: string;
  path: string;
  /** The status the client saw; 0 for a dropped or hung request. */
  status: number;
  at: number;
}

export interface FaultProxy {
  url: string;
  exchanges: Exchange[];
  failNext(path: string, ...faults: Fault[]): void;
  /** Drops the faults not used yet. */
  clearFaults(): void;
  count(method: string, path: string, status?: number): number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const queued = new Map<string, Fault[]>();
  const exchanges: Exchange[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const record = (status: number) => exchanges.push({ method, path, status, at: Date.now() });
    const fault = queued.get(path)?.shift();
    if (fault) {
      req.resume();
      if ('drop' in fault) {
        record(0);
        req.socket.destroy();
      } else if ('hangMs' in fault) {
        record(0);
        setTimeout(() => req.socket.destroy(), fault.hangMs);
      } else {
        const f = fault;
        setTimeout(() => {
          record(f.status);
          const error = f.error ?? (f.status === 429 ? 'too_many_requests' : f.status === 401 ? 'invalid_token' : 'temporarily_unavailable');
          const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
          if (f.retryAfter !== undefined) headers['Retry-After'] = String(f.retryAfter);
          if (f.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="authguard", error="invalid_token"';
          res.writeHead(f.status, headers);
          res.end(JSON.stringify({ error, error_description: 'injected by the test proxy' }));
        }, f.delayMs ?? 0);
      }
      return;
    }
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method, path: req.url, headers: req.headers },
      (up) => {
        record(up.statusCode ?? 0);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    failNext(path, ...faults) {
      queued.set(path, [...(queued.get(path) ?? []), ...faults]);
    },
    clearFaults() {
      queued.clear();
    },
    count(method, path, status) {
      return exchanges.filter((e) => e.method === method && e.path === path && (status === undefined || e.status === status)).length;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
