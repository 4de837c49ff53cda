/**
 * AutoMTLS for go-plugin: a fresh self-signed P-256 server certificate per process.
 * Go's crypto/tls (Terraform's client) needs SAN DNS localhost, a valid window (backdated),
 * EKU serverAuth, and a positive serial; go-plugin also marks its certs CA with certSign.
 * The client's certificate (PLUGIN_CLIENT_CERT) is the only CA we trust for client auth.
 *
 * The certificate is assembled here in DER with node:crypto (one fixed shape, a few dozen bytes
 * of ASN.1) rather than with an X.509 library: Terraform starts a provider process for every
 * phase, and loading such a library cost ~0.2 s of each start.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { der } from './der';

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  /** Leaf cert, DER, for the handshake line. */
  der: Buffer;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  // DER omits a BOOLEAN equal to its DEFAULT (critical FALSE).
  return der.seq(der.oid(oid), ...(critical ? [der.bool(true)] : []), der.octets(value));
}

export async function createServerCertificate(now: Date = new Date()): Promise<ServerCertificate> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and no leading zero byte
  const name = der.seq(
    der.set(der.seq(der.oid(OID.commonName), der.utf8('localhost'))),
    der.set(der.seq(der.oid(OID.organization), der.utf8('CertusOrdo'))),
  );
  const algorithm = der.seq(der.oid(OID.ecdsaWithSha256));
  // digitalSignature | keyEncipherment | keyAgreement | keyCertSign = bits 0, 2, 4, 5: 0b10101100, 2 unused bits
  const keyUsage = der.bitString(Buffer.from([0xac]), 2);
  const tbs = der.seq(
    der.explicit(0, der.int(Buffer.from([2]))), // v3
    der.int(serial),
    algorithm,
    name,
    der.seq(der.utcTime(new Date(now.getTime() - 5 * 60_000)), der.utcTime(new Date(now.getTime() + 365 * 24 * 3600_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(
      3,
      der.seq(
        extension(OID.basicConstraints, true, der.seq(der.bool(true))),
        extension(OID.keyUsage, true, keyUsage),
        extension(OID.extKeyUsage, false, der.seq(der.oid(OID.serverAuth), der.oid(OID.clientAuth))),
        extension(OID.subjectAltName, false, der.seq(der.implicitString(2, 'localhost'))),
      ),
    ),
  );
  const cert = der.seq(tbs, algorithm, der.bitString(sign('sha256', tbs, privateKey), 0));
  const certPem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), der: cert };
}

/** base64.RawStdEncoding: standard alphabet, no padding. */
export function rawBase64(der: Buffer): string {
  return der.toString('base64').replace(/=+$/, '');
}
