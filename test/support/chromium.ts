/**
 * Debian's Chromium for the browser suites (playwright-core with executablePath; browser downloads
 * fail here). Without it a suite is skipped loudly, and fails under CI=true. The flags keep
 * Chromium off this machine's closed network (background fetches would be refused, many at a time).
 */
import { execFileSync } from 'node:child_process';

function findChromium(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export const CHROMIUM = findChromium();
export const CI = process.env.CI === 'true';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

/** `describe` when Chromium is there (or under CI, where its absence must fail), else `describe.skip` with a warning naming `what`. */
export function describeWithChromium(what: string): jest.Describe {
  if (!CHROMIUM && !CI) console.warn(`\n*** SKIPPING ${what}: \`chromium\` is not on the PATH (apt-get install -y chromium). Under CI=true this fails. ***\n`);
  return CHROMIUM || CI ? describe : describe.skip;
}
