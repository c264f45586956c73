// Stops the private redis-server that global-setup started, if it started one.
export default async function globalTeardown() {
  await globalThis.__lsyncPrivateRedis?.stop();
}
