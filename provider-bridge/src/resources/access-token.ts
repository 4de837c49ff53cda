/**
 * Ephemeral certusordo_access_token: an agent access token minted by OpenEphemeralResource with the
 * agent's own key (OAuth client credentials with an Ed25519 private_key_jwt assertion, docs/auth.md)
 * and revoked by CloseEphemeralResource. Terraform keeps ephemeral values out of plan and state.
 *
 * The token itself stays in this process: `private` carries only a random handle, and Close looks
 * the token up by it (Terraform opens and closes an ephemeral resource within one provider process).
 */
import { createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import { UNKNOWN, asString, asStringList, isWhollyKnown, type TfObject, type TfValue } from '../codec/values';
import { APIError } from '../../../sdk/src/core/errors';
import { diagFromError, error, warning, type Diagnostic, type PathStep } from '../diag';
import { scopesViolations } from '../../../model/agent';
import { setOf, str, type SchemaDef } from '../schema/types';
import { ed25519Kid } from './agent-key';
import type { EphemeralOpenResult, EphemeralResourceDefinition, ProviderData } from './types';
import { AGENT_SECRET_RULE, splitAgentSecret } from '../../../model/agent-secret';
import { ACCESS_TOKEN_TTL_RULE, CLIENT_ASSERTION_MAX_LIFETIME_SECONDS } from '../../../model/limits';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Short (the assertion is used at once), and within the control plane's limit. */
const ASSERTION_LIFETIME_S = Math.min(60, CLIENT_ASSERTION_MAX_LIFETIME_SECONDS);

export const accessTokenSchema = {
  version: 0,
  block: {
    description:
      'An access token of an agent, minted when Terraform opens the ephemeral resource (during plan and during apply) and revoked when Terraform closes it. Ephemeral resources are never written to the plan or state files; use the token where Terraform accepts ephemeral values: provider configuration blocks, provisioner and connection blocks, `locals`, ephemeral variables and outputs, and write-only arguments. **Requires Terraform 1.10 or later.**',
    attributes: {
      secret: {
        type: str,
        optional: true,
        sensitive: true,
        description:
          `Agent secret (\`${AGENT_SECRET_RULE}\`), for example from an ephemeral input variable or a secrets manager. Exactly one of \`secret\` and \`private_key_file\` must be set. Never printed, logged or stored.`,
      },
      private_key_file: {
        type: str,
        optional: true,
        description:
          'Path of a PEM file holding the agent\'s Ed25519 private key in PKCS#8 form (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey -algorithm ed25519` writes it), for agents that brought their own key. Requires `agent_id`. Read when the token is minted.',
      },
      agent_id: {
        type: str,
        optional: true,
        description: 'Id of the agent. Required with `private_key_file`; with `secret` (which names its agent) it may be omitted, and must match when set.',
      },
      scopes: {
        type: setOf(str),
        optional: true,
        description: 'Scopes to request, a subset of the agent\'s scopes. Unset: all of the agent\'s scopes.',
      },
      resource: {
        type: str,
        optional: true,
        description:
          'RFC 8707 resource indicator: the absolute URI of the service the token is for; it becomes the token\'s audience (`aud`). Unset: the audience is the organization\'s issuer.',
      },
      access_token: {
        type: str,
        computed: true,
        sensitive: true,
        description: 'The access token (a JWT), for an `Authorization: Bearer` header.',
      },
      token_type: {
        type: str,
        computed: true,
        description: 'Token type, `Bearer`.',
      },
      expires_at: {
        type: str,
        computed: true,
        description: `Expiry of the token (RFC 3339). Tokens live ${ACCESS_TOKEN_TTL_RULE} and are not renewed: keep the work that uses one shorter than that.`,
      },
    },
  },
} satisfies SchemaDef;

interface AgentKeyMaterial {
  agentId: string;
  privateKey: KeyObject;
  kid: string;
}

function keyFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function kidOf(privateKey: KeyObject): string {
  return ed25519Kid(createPublicKey(privateKey).export({ format: 'jwk' }).x as string);
}

/** Errors never repeat the secret or the key file's content. */
function loadKey(config: TfObject): { key: AgentKeyMaterial | null; diagnostics: Diagnostic[] } {
  const secret = asString(config.secret);
  const agentId = asString(config.agent_id);
  if (secret !== null) {
    const parts = splitAgentSecret(secret);
    if (!parts) return { key: null, diagnostics: [secretDiag()] };
    const seed = Buffer.from(parts.seedBase64url, 'base64url');
    if (seed.length !== 32) return { key: null, diagnostics: [secretDiag()] };
    const privateKey = keyFromSeed(seed);
    return { key: { agentId: parts.agentId, privateKey, kid: kidOf(privateKey) }, diagnostics: [] };
  }
  const file = asString(config.private_key_file);
  if (file === null || agentId === null) return { key: null, diagnostics: [] };
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'unreadable';
    return { key: null, diagnostics: [error('Cannot read the private key file', `${file}: ${code}.`, ['private_key_file'])] };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return { key: null, diagnostics: [keyFileDiag(file)] };
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') return { key: null, diagnostics: [keyFileDiag(file)] };
  return { key: { agentId: agentId.toLowerCase(), privateKey, kid: kidOf(privateKey) }, diagnostics: [] };
}

const secretDiag = (): Diagnostic =>
  error('Invalid agent secret', `The value of \`secret\` is not an agent secret: expected \`${AGENT_SECRET_RULE}\`, as returned when the agent or key was created.`, ['secret']);

const keyFileDiag = (file: string): Diagnostic =>
  error(
    'Invalid private key file',
    `${file} does not hold an Ed25519 private key in PEM PKCS#8 form (\`-----BEGIN PRIVATE KEY-----\`). Create one with \`openssl genpkey -algorithm ed25519 -out agent.pem\` and register its public key with the agent.`,
    ['private_key_file'],
  );

function isAbsoluteUri(value: string): boolean {
  try {
    const u = new URL(value);
    return u.hash === '' && !value.includes('#') && /^[\x21-\x7e]+$/.test(value) && value.length <= 2048;
  } catch {
    return false;
  }
}

function validate(config: TfObject): Diagnostic[] {
  const out: Diagnostic[] = [];
  const has = (name: string): boolean => (config[name] ?? null) !== null;
  if (has('secret') && has('private_key_file')) {
    out.push(error('Conflicting agent credentials', 'Set either `secret` or `private_key_file`, not both.', ['private_key_file']));
  } else if (!has('secret') && !has('private_key_file')) {
    out.push(error('Missing agent credential', 'Set `secret` (an agent secret `cos_…`) or `private_key_file` with `agent_id`.'));
  }
  if (has('private_key_file') && !has('agent_id')) {
    out.push(error('Missing agent_id', '`private_key_file` holds no agent id: set `agent_id` too.', ['agent_id']));
  }
  const agentId = config.agent_id;
  if (typeof agentId === 'string' && !UUID.test(agentId)) {
    out.push(error('Invalid agent id', `agent_id "${agentId}" is not an agent id (a UUID).`, ['agent_id']));
  }
  const secret = config.secret;
  if (typeof secret === 'string') {
    const parts = splitAgentSecret(secret);
    if (!parts) out.push(secretDiag());
    else if (typeof agentId === 'string' && UUID.test(agentId) && parts.agentId !== agentId.toLowerCase()) {
      out.push(error('Secret of another agent', `The secret belongs to another agent than agent_id "${agentId}". Remove \`agent_id\` or fix it.`, ['agent_id']));
    }
  }
  const scopes = config.scopes;
  if (Array.isArray(scopes)) {
    const known = scopes.filter((s): s is string => typeof s === 'string');
    for (const v of scopesViolations(known)) out.push(error('Invalid scope', `${v.charAt(0).toUpperCase()}${v.slice(1)}.`, ['scopes']));
  }
  const resource = config.resource;
  if (typeof resource === 'string' && !isAbsoluteUri(resource)) {
    out.push(error('Invalid resource', `resource "${resource}" is not an absolute URI without a fragment (RFC 8707), for example "https://payments.example.com/".`, ['resource']));
  }
  return out;
}

function b64json(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** RFC 7523 client assertion, signed with Ed25519 (alg EdDSA), fresh jti per call. */
export function clientAssertion(key: AgentKeyMaterial, audience: string, now: number = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const input = `${b64json({ alg: 'EdDSA', typ: 'JWT', kid: key.kid })}.${b64json({
    iss: key.agentId,
    sub: key.agentId,
    aud: audience,
    jti: randomUUID(),
    iat,
    exp: iat + ASSERTION_LIFETIME_S,
  })}`;
  return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
}

/** The token's own `exp` when readable, else now + expires_in. */
function expiresAt(token: string, expiresIn: number, now: number): string {
  try {
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    if (typeof exp === 'number') return new Date(exp * 1000).toISOString();
  } catch {
    /* fall back to expires_in */
  }
  return new Date(now + expiresIn * 1000).toISOString();
}

const OAUTH_HINTS: Record<string, { hint: string; path?: PathStep[] }> = {
  invalid_client: {
    hint: 'The key is unknown, removed, or does not belong to this agent (the control plane does not say which). Check that the secret or key file is the agent\'s current key.',
  },
  invalid_grant: { hint: 'The agent is suspended or revoked. Reactivate it, or use another agent.' },
  invalid_scope: { hint: 'Request only scopes the agent holds (`payments:*` covers `payments:read`).', path: ['scopes'] },
  invalid_target: { hint: 'Use an absolute URI without a fragment, at most 2048 characters.', path: ['resource'] },
};

function tokenDiag(err: unknown, agentId: string): Diagnostic {
  if (err instanceof APIError && (err.status === 400 || err.status === 401)) {
    const h = OAUTH_HINTS[err.code];
    return error('Access token refused', `The control plane refused a token for agent ${agentId}: ${err.code}: ${err.message}. ${h?.hint ?? ''}`.trimEnd(), h?.path);
  }
  return diagFromError(err, `obtain an access token for agent ${agentId}`);
}

/** Tokens opened by this process, by the handle in `private`. */
const openTokens = new Map<string, string>();

function unknownResult(config: TfObject): TfObject {
  return { ...nullInputs(config), access_token: UNKNOWN, token_type: UNKNOWN, expires_at: UNKNOWN };
}

function nullInputs(config: TfObject): Record<string, TfValue> {
  const out: Record<string, TfValue> = {};
  for (const name of ['secret', 'private_key_file', 'agent_id', 'scopes', 'resource']) out[name] = config[name] ?? null;
  return out;
}

export const accessTokenResource = {
  typeName: 'certusordo_access_token',
  schema: accessTokenSchema,
  validate,

  async open(p: ProviderData, config: TfObject): Promise<EphemeralOpenResult> {
    const diags = validate(config);
    if (diags.length) return { result: null, diagnostics: diags };
    // Inputs not known yet (planned from resources of this run): Terraform asks again at apply.
    if (!isWhollyKnown(config)) return { result: unknownResult(config), diagnostics: [] };
    const { key, diagnostics } = loadKey(config);
    if (!key) return { result: null, diagnostics };
    const scopes = [...new Set(asStringList(config.scopes) ?? [])].sort().join(' ');
    const resource = asString(config.resource);
    const now = Date.now();
    try {
      const res = await p.client.requestToken((aud) => ({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: clientAssertion(key, aud),
        ...(scopes ? { scope: scopes } : {}),
        ...(resource ? { resource } : {}),
      }));
      const handle = randomUUID();
      openTokens.set(handle, res.access_token);
      p.logger.info('access token minted', { agent_id: key.agentId, kid: key.kid });
      return {
        result: {
          ...nullInputs(config),
          access_token: res.access_token,
          token_type: res.token_type,
          expires_at: expiresAt(res.access_token, res.expires_in, now),
        },
        diagnostics: [],
        private: Buffer.from(handle),
      };
    } catch (err) {
      return { result: null, diagnostics: [tokenDiag(err, key.agentId)] };
    }
  },

  async close(p: ProviderData, priv: Buffer): Promise<Diagnostic[]> {
    const handle = priv.toString('utf8');
    const token = openTokens.get(handle);
    if (!handle || token === undefined) return [];
    openTokens.delete(handle);
    try {
      await p.client.revokeToken(token);
      p.logger.info('access token revoked');
      return [];
    } catch (err) {
      const d = diagFromError(err, 'revoke the access token');
      return [warning('Access token not revoked', `${d.detail} It stays valid until it expires.`)];
    }
  },
} satisfies EphemeralResourceDefinition;
