/**
 * Lets each example run on its own (`node dist/examples/sdk/<name>.js`, see README.md) while
 * exporting `main(client)` for the tests. The client reads CERTUSORDO_API_KEY and
 * CERTUSORDO_ENDPOINT.
 */
import { CertusOrdoClient } from '../../sdk/src';

export function runStandalone(main: (client: CertusOrdoClient, ...args: string[]) => Promise<unknown>): void {
  main(new CertusOrdoClient(), ...process.argv.slice(2)).catch((err: unknown) => {
    console.error(String(err));
    process.exitCode = 1;
  });
}
