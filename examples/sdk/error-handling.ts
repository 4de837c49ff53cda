/** Error handling: every failure is a typed CertusOrdoError subclass. */
import { CertusOrdoClient, NotFoundError, ValidationError } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  const caught: string[] = [];

  try {
    await client.agents.get('non-existent-id');
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    console.log('Agent not found');
    caught.push(err.name);
  }

  try {
    await client.agents.create({ name: '', scopes: [] });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    console.log(`Invalid input: ${err.message}`);
    for (const d of err.details) console.log(`  ${d.path}: ${d.message}`);
    caught.push(err.name);
  }

  return caught;
}

if (require.main === module) runStandalone(main);
