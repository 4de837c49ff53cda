/**
 * PlanResourceChange for certusordo_agent, driven through the RPC module with wire-encoded
 * values, as terraform sends them (proposed new state built by core's ProposedNew rule).
 */
import { decodeDynamicValue, encodeDynamicValue } from '../../provider-bridge/src/codec/msgpack';
import { UNKNOWN, isUnknown, type TfObject, type TfValue } from '../../provider-bridge/src/codec/values';
import { agentResource, agentSchema } from '../../provider-bridge/src/resources/agent';
import { impliedType } from '../../provider-bridge/src/schema/types';
import { planResourceChange } from '../../provider-bridge/src/server/plan-resource-change';
import { validateResourceConfig } from '../../provider-bridge/src/server/validate-resource-config';

const T = impliedType(agentSchema.block);
const attrs = agentSchema.block.attributes;
const KEY = 'C7xlxHAc-T0j8ktwKnGdfG1jfnF7e2ut9Lt9awbyTSY';

/** Terraform core's ProposedNew: config where set, else prior for computed attributes, else null. */
function proposedNew(prior: TfObject | null, config: TfObject): TfObject {
  const out: Record<string, TfValue> = {};
  for (const [name, a] of Object.entries(attrs)) {
    const c = config[name] ?? null;
    out[name] = c !== null ? c : (a as { computed?: boolean }).computed && prior ? (prior[name] ?? null) : null;
  }
  return out;
}

function cfg(values: Record<string, TfValue>): TfObject {
  const out: Record<string, TfValue> = {};
  for (const name of Object.keys(attrs)) out[name] = values[name] ?? null;
  return out;
}

function plan(prior: TfObject | null, config: TfObject) {
  const res = planResourceChange({
    type_name: 'certusordo_agent',
    prior_state: prior ? encodeDynamicValue(T, prior) : null,
    proposed_new_state: encodeDynamicValue(T, proposedNew(prior, config)),
    config: encodeDynamicValue(T, config),
    prior_private: Buffer.alloc(0),
  }) as { planned_state: { msgpack: Buffer }; requires_replace: Array<{ steps: Array<{ attribute_name: string }> }>; diagnostics: unknown[] };
  return {
    planned: decodeDynamicValue(T, res.planned_state) as Record<string, TfValue>,
    replace: res.requires_replace.map((p) => p.steps.map((s) => s.attribute_name).join('.')),
    diagnostics: res.diagnostics,
  };
}

const prior: TfObject = {
  id: 'id-1',
  name: 'alpha',
  scopes: ['payments:read'],
  metadata: { team: 'payments' },
  public_key: KEY,
  secret: 'cos_id-1_seed',
  status: 'active',
  rotation_trigger: null,
  created_at: '2026-11-25T21:00:00.000Z',
  last_auth_at: null,
  may_act: [],
  federated_credential: [],
};

describe('certusordo_agent plan', () => {
  it('create: server values unknown, defaults known, status active', () => {
    const { planned } = plan(null, cfg({ name: 'alpha' }));
    expect(isUnknown(planned.id)).toBe(true);
    expect(isUnknown(planned.created_at)).toBe(true);
    expect(isUnknown(planned.public_key)).toBe(true);
    expect(isUnknown(planned.secret)).toBe(true);
    expect(planned.scopes).toEqual([]);
    expect(planned.metadata).toEqual({});
    expect(planned.status).toBe('active');
    expect(planned.rotation_trigger).toBeNull();
  });

  it('create with a brought key: no secret will exist', () => {
    const { planned } = plan(null, cfg({ name: 'alpha', public_key: KEY }));
    expect(planned.secret).toBeNull();
    expect(planned.public_key).toBe(KEY);
    const unknownKey = plan(null, cfg({ name: 'alpha', public_key: UNKNOWN }));
    expect(isUnknown(unknownKey.planned.secret)).toBe(true);
  });

  it('no change: the plan equals the prior state (quiet plans)', () => {
    const { planned, replace } = plan(prior, cfg({ name: 'alpha', scopes: ['payments:read'], metadata: { team: 'payments' } }));
    expect(planned).toEqual(prior);
    expect(replace).toEqual([]);
  });

  it('in-place change keeps ids, timestamps and the secret; last_auth_at becomes unknown', () => {
    const { planned, replace } = plan(prior, cfg({ name: 'alpha', scopes: ['payments:read', 'billing:*'], metadata: { team: 'payments' } }));
    expect(replace).toEqual([]);
    expect(planned.id).toBe('id-1');
    expect(planned.created_at).toBe(prior.created_at);
    expect(planned.secret).toBe(prior.secret);
    expect(planned.public_key).toBe(KEY);
    expect(isUnknown(planned.last_auth_at)).toBe(true);
  });

  it('omitted scopes/metadata mean empty (a default), so remote additions are removed', () => {
    const { planned } = plan(prior, cfg({ name: 'alpha' }));
    expect(planned.scopes).toEqual([]);
    expect(planned.metadata).toEqual({});
  });

  it('unset status keeps a runtime suspension; a set status is enforced', () => {
    const suspended = { ...prior, status: 'suspended' };
    const kept = plan(suspended, cfg({ name: 'alpha', scopes: ['payments:read'], metadata: { team: 'payments' } }));
    expect(kept.planned).toEqual(suspended);
    const enforced = plan(suspended, cfg({ name: 'alpha', scopes: ['payments:read'], metadata: { team: 'payments' }, status: 'active' }));
    expect(enforced.planned.status).toBe('active');
    expect(enforced.replace).toEqual([]);
  });

  it('an agent revoked outside terraform is replaced', () => {
    const { planned, replace } = plan({ ...prior, status: 'revoked' }, cfg({ name: 'alpha', scopes: ['payments:read'], metadata: { team: 'payments' } }));
    expect(replace).toEqual(['status']);
    expect(planned.status).toBe('active');
    expect(isUnknown(planned.id)).toBe(true);
  });

  it('a new public_key replaces; removing it from config keeps the key', () => {
    const other = 'Xd3D0m0Ucz6yN4nFjv6_y8oE4p3ys5zVY7Ro8ovlk2o';
    expect(plan(prior, cfg({ name: 'alpha', scopes: ['payments:read'], metadata: { team: 'payments' }, public_key: other })).replace).toEqual(['public_key']);
    expect(plan(prior, cfg({ name: 'alpha', scopes: ['payments:read'], metadata: { team: 'payments' } })).replace).toEqual([]);
  });

  it('rotation_trigger: first value is recorded in place, a later change replaces', () => {
    const base = { name: 'alpha', scopes: ['payments:read'], metadata: { team: 'payments' } };
    const first = plan(prior, cfg({ ...base, rotation_trigger: { v: '1' } }));
    expect(first.replace).toEqual([]);
    expect(first.planned.rotation_trigger).toEqual({ v: '1' });
    const withTrigger = { ...prior, rotation_trigger: { v: '1' } };
    const rotate = plan(withTrigger, cfg({ ...base, rotation_trigger: { v: '2' } }));
    expect(rotate.replace).toEqual(['rotation_trigger']);
    // The replacement gets a fresh server-generated key pair, so both are unknown.
    expect(isUnknown(rotate.planned.secret)).toBe(true);
    expect(isUnknown(rotate.planned.public_key)).toBe(true);
  });

  it('unknown config values stay unknown', () => {
    const { planned } = plan(prior, cfg({ name: UNKNOWN, scopes: ['payments:read'], metadata: { team: 'payments' } }));
    expect(isUnknown(planned.name)).toBe(true);
    expect(planned.id).toBe('id-1');
  });

  it('destroy (null proposal) plans null', () => {
    const res = planResourceChange({
      type_name: 'certusordo_agent',
      prior_state: encodeDynamicValue(T, prior),
      proposed_new_state: encodeDynamicValue(T, null),
      config: encodeDynamicValue(T, null),
      prior_private: Buffer.from('p'),
    }) as { planned_state: { msgpack: Buffer }; planned_private: Buffer };
    expect(decodeDynamicValue(T, res.planned_state)).toBeNull();
    expect(res.planned_private.toString()).toBe('p');
  });
});

describe('certusordo_agent validation', () => {
  const validate = (values: Record<string, TfValue>) =>
    (validateResourceConfig({ type_name: 'certusordo_agent', config: encodeDynamicValue(T, cfg(values)) }) as {
      diagnostics: Array<{ summary: string; detail: string; attribute?: { steps: Array<{ attribute_name: string }> } }>;
    }).diagnostics;

  it('accepts a good config, including unknowns', () => {
    expect(validate({ name: 'alpha', scopes: ['payments:read', 'x:*', 'read'], metadata: { a: 'b' }, status: 'suspended', public_key: KEY })).toEqual([]);
    expect(validate({ name: UNKNOWN, scopes: [UNKNOWN], metadata: UNKNOWN })).toEqual([]);
  });

  it('names the attribute and the fix', () => {
    const cases: Array<[Record<string, TfValue>, string, RegExp]> = [
      [{ name: '' }, 'name', /must not be empty.*Use 1-64 characters/],
      [{ name: '-bad' }, 'name', /letters, digits/],
      [{ name: 'ok', scopes: ['Payments:Read'] }, 'scopes', /resource:action/],
      [{ name: 'ok', metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata', /1-64 characters/],
      [{ name: 'ok', status: 'revoked' }, 'status', /"active" or "suspended".*destroy/],
      [{ name: 'ok', public_key: 'not-a-key' }, 'public_key', /base64url/],
      // 32 bytes that are no Ed25519 point: the control plane would refuse them at apply.
      [{ name: 'ok', public_key: Buffer.from('02'.padEnd(64, '0'), 'hex').toString('base64url') }, 'public_key', /not a point on the Ed25519 curve.*Leave `public_key` unset/],
    ];
    for (const [values, attr, detail] of cases) {
      const diags = validate(values);
      expect(diags).toHaveLength(1);
      expect(diags[0]!.attribute!.steps[0]!.attribute_name).toBe(attr);
      expect(diags[0]!.detail).toMatch(detail);
    }
  });

  it('is defined with satisfies-checked CRUD functions', () => {
    expect(Object.keys(agentResource).sort()).toEqual(
      ['create', 'delete', 'importState', 'modifyPlan', 'read', 'schema', 'typeName', 'update', 'validate'].sort(),
    );
  });
});
