/**
 * A TCP proxy for fault injection: forwards every connection to `target`, and can be told to stop
 * forwarding without closing anything (a silent partition: a half-open link after a failover or a
 * NAT timeout, where nothing errors and bytes simply stop arriving). While stalled, bytes in both
 * directions are held, and new connections are accepted but not forwarded; `resume()` delivers
 * what was held, in order, as a network that heals would.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** The port to connect to instead of the target's. */
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Stops forwarding in both directions; sockets stay open. */
  stall(): void;
  /** Forwards again, starting with what was held. */
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let stalled = false;
  let connections = 0;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  /** Forwards `from`'s bytes to `to`, holding them while stalled. */
  const pipe = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) => {
      const send = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (stalled) held.push(send);
      else send();
    });
    from.on('end', () => {
      const end = () => to.end();
      if (stalled) held.push(end);
      else end();
    });
  };
  const server = net.createServer((client) => {
    connections++;
    track(client);
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const send of held.splice(0)) send();
    },
    async close() {
      stalled = false;
      held.length = 0;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `url` with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
