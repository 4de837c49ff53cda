/**
 * The first-start admin key with CERTUSORDO_BOOTSTRAP_KEY_FILE set but not writable: it reaches no
 * stream (whoever set a file collects stderr and the logs too); both say how to mint another.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { announceBootstrapKey } from '../../cli/commands/server/bootstrap-key';
import { createLogger } from '../../api/src/logger';

/** A stream that keeps what is written to it, as it is written. */
const collect = () => {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done(); } });
  return { stream, text: () => chunks.join('') };
};

test.each([
  ['a directory that does not exist', (dir: string) => path.join(dir, 'missing', 'key')],
  ['a file already there (never overwritten)', (dir: string) => { const f = path.join(dir, 'key'); fs.writeFileSync(f, 'placed by someone else'); return f; }],
])('a key file that cannot be written (%s): the key is written nowhere, and the way to a new one is said', (_what, fileIn) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bootstrap-'));
  try {
    const file = fileIn(dir);
    const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    const log = collect();
    const stderr = collect();
    const bootstrap = { organizationId: '0190a000-0000-7000-8000-000000000001', apiKey: `aa_${'k'.repeat(43)}` };
    announceBootstrapKey(bootstrap as Parameters<typeof announceBootstrapKey>[0], file, createLogger('info', log.stream), stderr.stream);
    for (const out of [log.text(), stderr.text()]) {
      expect(out).not.toContain(bootstrap.apiKey);
      expect(out).toContain(`certusordo api-keys create-local --org ${bootstrap.organizationId} --role admin`);
    }
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null).toBe(before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
