export default async function globalTeardown() {
  await Promise.all([globalThis.__batchscribeRedisStop?.(), globalThis.__batchscribeS3Stop?.()]);
  globalThis.__batchscribeDataDirStop?.();
}
