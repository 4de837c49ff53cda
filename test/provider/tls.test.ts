/** The AutoMTLS server certificate meets what Go's crypto/tls and go-plugin require of it. */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { createServerCertificate, rawBase64 } from '../../provider-bridge/src/tls';

test('self-signed P-256 CA certificate for localhost, backdated, server+client auth, positive serial', async () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const c = await createServerCertificate(now);
  const x = new X509Certificate(c.certPem);
  expect(x.raw.equals(c.der)).toBe(true);
  expect(x.subjectAltName).toBe('DNS:localhost');
  expect(x.ca).toBe(true);
  expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  expect(x.verify(x.publicKey)).toBe(true);
  expect(new Date(x.validFrom).getTime()).toBeLessThan(now.getTime());
  expect(new Date(x.validTo).getTime()).toBeGreaterThan(now.getTime() + 300 * 24 * 3600_000);
  expect(Number.parseInt(x.serialNumber.slice(0, 2), 16) & 0x80).toBe(0);
  expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  // The private key is the certificate's.
  const pub = createPublicKey(createPrivateKey(c.keyPem)).export({ type: 'spki', format: 'der' });
  expect(pub.equals(x.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
  expect(rawBase64(c.der)).not.toMatch(/=$/);
  // Fresh key and serial per process.
  expect((await createServerCertificate(now)).der.equals(c.der)).toBe(false);
});
