/** The agent secret format: one rule (model/agent-secret.ts) for the server that issues it and the clients that read it. */
import { joinAgentSecret, splitAgentSecret } from '../../model/agent-secret';
import { formatAgentSecret } from '../../api/src/crypto/ed25519';
import { parseAgentSecret } from '../../sdk/src';

const ID = '01a214bb-6b6a-7000-b305-28c3c7f6620b';
const SEED = Buffer.alloc(32, 7);

test('what the server issues, the clients read back', () => {
  const secret = formatAgentSecret(ID, SEED);
  expect(secret).toBe(joinAgentSecret(ID, SEED.toString('base64url')));
  expect(splitAgentSecret(secret)).toEqual({ agentId: ID, seedBase64url: SEED.toString('base64url') });
  const parsed = parseAgentSecret(secret);
  expect(parsed.agentId).toBe(ID);
  expect(Buffer.from(parsed.privateKey).equals(SEED)).toBe(true);
});

test('readers accept any case and surrounding whitespace, and answer the id in lowercase', () => {
  const secret = `  ${joinAgentSecret(ID.toUpperCase(), SEED.toString('base64url'))}\n`;
  expect(splitAgentSecret(secret)?.agentId).toBe(ID);
});

test('anything else is not a secret', () => {
  const seed = SEED.toString('base64url');
  for (const bad of ['', `cos_${ID}`, `cos_${ID}_${seed}x`, `cos_${ID}_${seed.slice(1)}`, `cas_${ID}_${seed}`, `cos_not-a-uuid_${seed}`, `cos_${ID}_${seed.slice(0, 42)}+`, `aa_${ID}_${seed}`]) {
    expect(splitAgentSecret(bad)).toBeNull();
    expect(() => parseAgentSecret(bad)).toThrow(/malformed agent secret/);
  }
});
