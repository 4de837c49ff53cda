/**
 * /v1/signing-keys: the caller's organization's token signing keys (public information) and their
 * on-demand rotation. An API key sees and rotates only its own organization's keys.
 */
import { auditContext } from '../middleware/auth';
import { SigningKeyPage, SigningKeyRotation } from '../schemas/responses';
import { SigningKeyRotate } from '../schemas/signing-keys';
import type { SigningKeyService } from '../services/signing-keys';
import { auth, manifest, REST } from './manifest';

export interface SigningKeyRouteDeps {
  signingKeys: SigningKeyService;
}

export const signingKeyRoutes = manifest<SigningKeyRouteDeps>('signing-keys', (route) => [
  route({
    ...REST, method: 'get', path: '/v1/signing-keys', summary: 'List the organization\'s published signing keys', auth: auth.apiKey('reader'),
    responses: { 200: SigningKeyPage },
    handle: async ({ caller }, { signingKeys }) => ({ body: { data: await signingKeys.list(caller.key.organizationId) } }),
  }),
  route({
    ...REST, method: 'post', path: '/v1/signing-keys/rotate', summary: 'Rotate the organization\'s signing key now (the previous key stays published until its tokens expire)',
    auth: auth.apiKey('admin'), body: SigningKeyRotate, responses: { 200: SigningKeyRotation },
    handle: async ({ caller, body, request }, { signingKeys }) => ({ body: await signingKeys.rotate(auditContext(caller, request), body.reason) }),
  }),
]);
