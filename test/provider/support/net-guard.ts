/**
 * A network guard for tests that name non-loopback endpoints: every TCP connect call and every name
 * lookup in the guarded process is recorded, lookups resolve only from a fixed table (no DNS
 * traffic) whose answers must be loopback (or 0.0.0.0, which Linux delivers to the local host and
 * which is not loopback by the provider's rules), and a connect to an IP address that is not
 * loopback is refused before any packet is sent.
 * So a test of "the provider refuses http://10.0.0.1" cannot leak traffic even when the code
 * under test is wrong, and it can prove that no connection was even attempted.
 *
 * One source, two uses: installed in the jest worker (`installNetGuard`), or loaded into the
 * provider process that terraform starts, via NODE_OPTIONS=--require (`writeNetGuard`).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export interface NetEvent {
  /** `connect`: a Socket.connect call, `host` as given (a name is then looked up). */
  kind: 'connect' | 'lookup';
  host: string;
  port?: number;
  /** The address a lookup answered with. */
  address?: string;
  blocked: boolean;
}

/** Plain CommonJS, loaded by node itself (not by jest's transform). */
const GUARD_SOURCE = String.raw`'use strict';
const dns = require('node:dns');
const net = require('node:net');
const fs = require('node:fs');

function isLoopbackIp(a) {
  const v = a.startsWith('[') ? a.slice(1, -1) : a;
  if (net.isIPv4(v)) return v.split('.')[0] === '127';
  if (net.isIPv6(v)) return v === '::1' || /^::ffff:127\./i.test(v);
  return false;
}

function install(opts) {
  const hosts = Object.assign({ localhost: '127.0.0.1' }, opts.hosts || {});
  const record = opts.record;
  const origLookup = dns.lookup;
  const origConnect = net.Socket.prototype.connect;
  dns.lookup = function guardedLookup(hostname, options, callback) {
    if (typeof options === 'function') { callback = options; options = {}; }
    if (typeof options === 'number') options = { family: options };
    options = options || {};
    let address = net.isIP(hostname) ? hostname : Object.prototype.hasOwnProperty.call(hosts, hostname) ? hosts[hostname] : null;
    if (address !== null && !isLoopbackIp(address) && address !== '0.0.0.0') address = null;
    record({ kind: 'lookup', host: hostname, address: address === null ? undefined : address, blocked: address === null });
    if (address === null) {
      const e = new Error('net-guard: no DNS in tests for ' + hostname);
      e.code = 'ENOTFOUND';
      return process.nextTick(callback, e);
    }
    const family = net.isIP(address);
    if (options.all) return process.nextTick(callback, null, [{ address, family }]);
    return process.nextTick(callback, null, address, family);
  };
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const o = first !== null && typeof first === 'object' ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
    if (o.path === undefined || o.path === null) {
      const host = o.host || 'localhost';
      const blocked = net.isIP(host) !== 0 && !isLoopbackIp(host);
      record({ kind: 'connect', host, port: Number(o.port), blocked });
      if (blocked) {
        const e = new Error('net-guard: connection to ' + host + ' blocked');
        e.code = 'ENETGUARD';
        process.nextTick(() => this.destroy(e));
        return this;
      }
    }
    return origConnect.apply(this, args);
  };
  return function uninstall() {
    dns.lookup = origLookup;
    net.Socket.prototype.connect = origConnect;
  };
}

module.exports = { install };

if (process.env.NET_GUARD_LOG) {
  const log = process.env.NET_GUARD_LOG;
  install({
    hosts: JSON.parse(process.env.NET_GUARD_HOSTS || '{}'),
    record: (ev) => fs.appendFileSync(log, JSON.stringify(ev) + '\n'),
  });
}
`;

function guardFile(dir: string): string {
  const file = path.join(dir, 'net-guard.js');
  if (!fs.existsSync(file)) fs.writeFileSync(file, GUARD_SOURCE);
  return file;
}

/** Guards the current (jest worker) process; returns the recorded events and an uninstall. */
export function installNetGuard(dir: string, hosts: Record<string, string> = {}): { events: NetEvent[]; uninstall: () => void } {
  const events: NetEvent[] = [];
  // Node's own require: the guard must patch the real core modules, untransformed.
  const guard = createRequire(__filename)(guardFile(dir)) as {
    install(o: { hosts: Record<string, string>; record: (e: NetEvent) => void }): () => void;
  };
  const uninstall = guard.install({ hosts, record: (e) => events.push(e) });
  return { events, uninstall };
}

/**
 * Environment for a process (terraform's provider child) that loads the guard at start-up; the
 * events land in a JSON-lines file read by `events()`.
 */
export function netGuardEnv(dir: string, hosts: Record<string, string> = {}): { env: Record<string, string>; events: () => NetEvent[] } {
  const log = path.join(dir, `net-guard-${process.pid}-${Math.random().toString(36).slice(2)}.jsonl`);
  return {
    env: { NODE_OPTIONS: `--require ${guardFile(dir)}`, NET_GUARD_LOG: log, NET_GUARD_HOSTS: JSON.stringify(hosts) },
    events: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as NetEvent)
        : [],
  };
}
