/**
 * Hands the first-start admin key to the person starting the server, exactly once, never through
 * the JSON log stream (stdout, which log collectors ship and keep): to a new file of mode 0600
 * when CERTUSORDO_BOOTSTRAP_KEY_FILE names one, else on stderr, on a line of its own.
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
      // The organization's only admin key would be lost: fall back to stderr rather than fail.
      logger.warn({ organization_id: bootstrap.organizationId, file, cause: (err as Error).message }, 'could not write the bootstrap key file; the admin API key goes to stderr');
    }
  }
  stderr.write(`\nFirst start: created organization ${bootstrap.organizationId} and an admin API key (shown only now):\n${keyLine(bootstrap.apiKey)}\n`);
}
