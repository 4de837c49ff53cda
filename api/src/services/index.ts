/** Builds the service layer over one database. */
import type { Knex } from 'knex';
import type { MasterKey } from '../crypto/master-key';
import { AgentService } from './agents';
import { OrganizationService } from './organizations';

export interface Services {
  readonly organizations: OrganizationService;
  readonly agents: AgentService;
}

export function createServices(db: Knex, keys: MasterKey): Services {
  return { organizations: new OrganizationService(db, keys.apiKeyPepper), agents: new AgentService(db) };
}
