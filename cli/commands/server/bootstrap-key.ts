/**
 * Hands the first-start admin key to the person starting the server, exactly once, never through
 * the JSON log stream (stdout, which log collectors ship and keep): to a new file of mode 0600
 * when CERTUSORDO_BOOTSTRAP_KEY_FILE names one, else on stderr, on a line of its own. A file that
 * cannot be written never sends the key to stderr instead: whoever set one collects stderr too.
 */
import fs from 'node:fs';
import type { BootstrapResult } from '../../../api/src/bootstrap';
import type { Logger } from '../../../api/src/logger';

function keyLine(apiKey: string): string {
  return `CERTUSORDO_API_KEY=${apiKey}\n`;
}

export function announceBootstrapKey(bootstrap: BootstrapResult, file: string | undefined, logger: Logger, stderr: NodeJS.WritableStream = process.stderr): void {
  if (file) {
    try {
      // `wx`: never overwrite a file (an older key, or a file someone placed to read the new one).
      fs.writeFileSync(file, keyLine(bootstrap.apiKey), { mode: 0o600, flag: 'wx' });
      logger.info({ organization_id: bootstrap.organizationId, file }, 'first start: the admin API key was written to the bootstrap key file (read it, then delete the file)');
      return;
    } catch (err) {
      // The key is gone with this process, and recoverable: an operator with the database and the
      // master key mints another admin key.
      const recover = `certusordo api-keys create-local --org ${bootstrap.organizationId} --role admin`;
      logger.error({ organization_id: bootstrap.organizationId, file, cause: (err as Error).message }, `could not write the bootstrap key file, so the first admin API key is shown nowhere; create one with: ${recover} (with the server's CERTUSORDO_MASTER_KEY)`);
      stderr.write(`\nFirst start: created organization ${bootstrap.organizationId}, but ${file} could not be written (${(err as Error).message}); the admin API key is shown nowhere. Create one with:\n  ${recover}\n\n`);
      return;
    }
  }
  stderr.write(`\nFirst start: created organization ${bootstrap.organizationId} and an admin API key (shown only now):\n${keyLine(bootstrap.apiKey)}\n`);
}
