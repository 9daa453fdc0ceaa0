export default async function globalTeardown() {
  const { server, build } = globalThis.authguardServer ?? {};
  await server?.stop();
  build?.cleanup();
}
