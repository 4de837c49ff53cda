/** A request listener (an Express app, say) served on a free loopback port for one test or file. */
import http, { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalApp {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Stops listening and cuts its kept-alive connections. */
  close(): Promise<void>;
}

export async function listenLocal(listener: RequestListener): Promise<LocalApp> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
