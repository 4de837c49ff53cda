/**
 * UpgradeResourceState: called for every stored object on every refresh/plan. Stored JSON is
 * read with the current type (removed attributes dropped, new ones null, new nested blocks empty)
 * and sent back as msgpack.
 */
import { encodeDynamicValue, fromRaw } from '../codec/msgpack';
import { error, toWire } from '../diag';
import { impliedType, withEmptyBlocks } from '../schema/types';
import { asBuffer, findResource, unknownType } from './context';
import type { UpgradeResourceState_Request, UpgradeResourceState_ResponseInit } from './tfplugin6.gen';

export function upgradeResourceState(req: UpgradeResourceState_Request): UpgradeResourceState_ResponseInit {
  const r = findResource(req.type_name);
  if (!r) return { diagnostics: toWire([unknownType('resource', req.type_name)]) };
  const version = Number(req.version ?? 0);
  if (version > r.schema.version) {
    return {
      diagnostics: toWire([
        error('State from a newer provider', `The stored state has schema version ${version}, newer than this provider's ${r.schema.version}. Upgrade the CertusOrdo provider.`),
      ]),
    };
  }
  const json = req.raw_state?.json;
  if (!json || json.length === 0) {
    return { diagnostics: toWire([error('Unsupported state format', 'Legacy flatmap state is not supported by this provider.')]) };
  }
  const type = impliedType(r.schema.block);
  // State written before a nested block existed lacks it: no blocks, not "unknown to us".
  const value = withEmptyBlocks(r.schema.block, fromRaw(type, JSON.parse(asBuffer(json).toString('utf8'))));
  return { upgraded_state: encodeDynamicValue(type, value), diagnostics: [] };
}
