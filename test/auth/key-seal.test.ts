/**
 * Agent keys are sealed under the master key: a database writer who inserts a public key of their
 * own for an agent (with a made-up seal, or the seal of the agent's real key), or who moves an
 * agent whose key they hold to another organization, mints no token. Sealed keys keep working.
 */
import { randomBytes } from 'node:crypto';
import { startTestServer, TestServer } from '../support/server';
import { generateEd25519, jwkThumbprint } from '../../api/src/crypto/ed25519';
import { createAgent, requestToken, TestAgent } from './helpers';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => s?.close());

const knex = () => s.running.db.knex;

/** A key pair the writer holds, inserted straight into agent_keys for `agent` with `seal`. */
async function insertForeignKey(agent: TestAgent, seal: Buffer): Promise<TestAgent> {
  const own = generateEd25519();
  await knex()('agent_keys').insert({ agent_id: agent.id, kid: jwkThumbprint(own.publicKey), public_key: own.publicKey, seal, created_at: new Date(), revoked_at: null });
  return { ...agent, seed: own.seed, publicKey: own.publicKey.toString('base64url') };
}

test('a key row written straight into the database mints no token, whatever seal it carries', async () => {
  const agent = await createAgent(s, { name: 'sealed-agent', scopes: ['payments:read'] });
  const real = await knex()('agent_keys').where({ agent_id: agent.id }).first();
  expect(Buffer.from(real.seal)).toHaveLength(32);
  for (const seal of [randomBytes(32), Buffer.from(real.seal)]) {
    const foreign = await insertForeignKey(agent, seal);
    const refused = await requestToken(s, foreign);
    expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 401, error: 'invalid_client' });
  }
  // The agent's own, sealed key still works, and the foreign rows stay listed (an operator can see and remove them).
  expect((await requestToken(s, agent)).status).toBe(200);
  expect((await knex()('agent_keys').where({ agent_id: agent.id })).length).toBe(3);
});

test('an agent moved to another organization by a database writer no longer authenticates there', async () => {
  const agent = await createAgent(s, { name: 'moved-agent', scopes: ['payments:read'] });
  const other = await s.createOrganization('admin');
  // Moved before it ever authenticated, so no cached credentials stand between.
  await knex()('agents').where({ id: agent.id }).update({ organization_id: other.organizationId });
  const refused = await requestToken(s, agent);
  expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 401, error: 'invalid_client' });
  await knex()('agents').where({ id: agent.id }).update({ organization_id: s.organizationId });
  expect((await requestToken(s, agent)).status).toBe(200);
});
