/**
 * constructs/.gen/ must be exactly what `npm run generate` produces from the provider's current
 * schema: a schema change without regenerated bindings fails here.
 */
import { join } from 'node:path';
import { BINDINGS_DIR, repositoryRoot, staleBindings } from '../../constructs/scripts/generate-bindings';

test('checked-in L1 bindings are up to date with the provider schema', async () => {
  const stale = await staleBindings(join(repositoryRoot(), BINDINGS_DIR));
  if (stale.length) {
    throw new Error(`${BINDINGS_DIR} is out of date (${stale.join(', ')}): run \`npm run generate\` and commit the result`);
  }
}, 120_000);
