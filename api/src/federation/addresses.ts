/**
 * Which network addresses the control plane may connect to when it fetches an issuer's keys. The
 * fetch is made on behalf of whoever may create a federated credential, so it must not become a way
 * to reach what only the control plane can reach (server-side request forgery): cloud metadata
 * services never; loopback, private and link-local networks only when the operator says the
 * issuers live there (CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS=1); addresses that are not
 * unicast destinations never.
 */
import { BlockList, isIP } from 'node:net';

/** `public`: always allowed; `private`: only with the setting; `metadata` and `reserved`: never. */
export type AddressClass = 'public' | 'private' | 'metadata' | 'reserved';

/** Instance metadata and credential endpoints of the clouds and container platforms. */
const METADATA = new BlockList();
for (const a of ['169.254.169.254', '169.254.170.2', '169.254.170.23', '100.100.100.200', '168.63.129.16']) METADATA.addAddress(a, 'ipv4');
for (const a of ['fd00:ec2::254', 'fd00:ec2::23']) METADATA.addAddress(a, 'ipv6');
/** Host names that resolve to a metadata service inside the clouds. */
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

const PRIVATE = new BlockList();
for (const [net, bits] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['169.254.0.0', 16]] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

const RESERVED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) RESERVED.addSubnet(net, bits, 'ipv4');
// Unspecified, multicast, documentation, and the translation prefixes whose embedded IPv4 address
// would otherwise escape the IPv4 rules (NAT64, 6to4, Teredo).
for (const [net, bits] of [['::', 128], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['2002::', 16], ['2001::', 32]] as const) RESERVED.addSubnet(net, bits, 'ipv6');

/** The class of an IP address (IPv4-mapped IPv6 addresses follow the IPv4 rules). */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 0) return 'reserved';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (METADATA.check(address, type)) return 'metadata';
  if (RESERVED.check(address, type)) return 'reserved';
  if (PRIVATE.check(address, type)) return 'private';
  return 'public';
}

/**
 * The class of a URL's host as written: an IP literal by its address, `localhost` names as loopback,
 * the clouds' metadata names as metadata; any other name is `public` here and is checked again, by
 * its resolved addresses, when connecting.
 */
export function classifyHost(hostname: string): AddressClass {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isIP(host)) return classifyAddress(host);
  if (METADATA_HOSTS.has(host)) return 'metadata';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'private';
  return 'public';
}

/** Whether a connection to an address of class `c` is allowed. */
export function addressAllowed(c: AddressClass, allowPrivateNetworks: boolean): boolean {
  return c === 'public' || (c === 'private' && allowPrivateNetworks);
}

/** Why an address of class `c` is refused, in words. */
export function refusalText(c: AddressClass): string {
  switch (c) {
    case 'metadata':
      return 'a cloud metadata address, never fetched from';
    case 'reserved':
      return 'not a unicast address an issuer can have';
    default:
      return 'a loopback, private or link-local address, fetched from only when the server runs with CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS=1';
  }
}
