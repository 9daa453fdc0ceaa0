export declare const repoRoot: string;
export interface Build {
  dir: string;
  bin: string;
  cleanup(): void;
}
export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}
export declare function buildServer(): Build;
export declare function startServer(build: Build, env?: Record<string, string>): Promise<RunningServer>;
