/**
 * The audit chain's links are a stored format: every event ever written is verified by recomputing
 * its link. These vectors were computed by the implementation that wrote the existing chains, so a
 * change to how an event is serialized (key order, nesting, escapes, dates, nulls) fails here
 * rather than by breaking every deployed chain's verification.
 */
import { chainKeys, keyedLink, legacyLink } from '../../api/src/services/audit';
import type { ChainEventBody } from '../../api/src/services/audit';

const event = {
  organization_id: '0190a5b4-1111-7000-8000-000000000001', seq: '42', action: 'agent.authenticated', actor_type: 'agent',
  actor_id: '0190a5b4-2222-7000-8000-000000000002', target_type: 'agent', target_id: '0190a5b4-2222-7000-8000-000000000002',
  outcome: 'success', reason: null, request_id: 'req-1', client_ip: '203.0.113.9',
  data: { method: 'private_key_jwt', scopes: ['payments:read', 'b:*'], z: { y: [1, 2.5, { b: 'é\u2028"\\', a: null }], x: true }, kid: 'k1', nested: [], empty: {}, u: undefined },
  created_at: new Date('2026-12-05T01:02:03.456Z'),
} as unknown as ChainEventBody;

test('keyed and legacy links of fixed events', () => {
  const keys = chainKeys(Buffer.alloc(32, 7));
  expect(keyedLink(keys, 'ab'.repeat(32), event)).toBe('6d5785ae79f7cb59f5b570bb2a213bcc2d1e86a9e9759419ce3099fbc547d1f7');
  expect(legacyLink('cd'.repeat(32), event)).toBe('c1ede4736a5820bba4bc3e45fc46cf09a88b92d9bdae64a9d573c3b077654031');
  const other = { ...event, data: {}, reason: 'x', client_ip: null } as unknown as ChainEventBody;
  expect(keyedLink(keys, 'ab'.repeat(32), other)).toBe('3b7e945830149ccb2649fdef0acfb3a9b6b9948b1a843004dfa0190f5c28fbee');
});
