import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  (globalThis as { __certusordoPg?: { stop(): void } }).__certusordoPg?.stop();
  const root = process.env.CERTUSORDO_TEST_ROOT;
  if (root) fs.rmSync(root, { recursive: true, force: true });
}
