/**
 * AgentBestPractices: an Aspect that warns (it never fails synth) about the practices in
 * "Managing Agents": vague names (`agent1`, `test`, …) and wildcard scopes (`payments:*`) on
 * production agents. Add it to each stack (cdktf invokes aspects per stack, so an aspect added to
 * the App itself is never visited):
 *
 *   Aspects.of(stack).add(new AgentBestPractices());
 */
import type { IConstruct } from 'constructs';
import { Annotations, Token, type IAspect } from 'cdktf';
import { isWildcardScope } from '../../model/agent';
import { CertusOrdoAgent } from './agent';

/** Warning ids, at the start of each message so CI can grep or allow-list them. */
export const WARNING_IDS = {
  vagueName: 'certusordo:vague-agent-name',
  wildcardInProduction: 'certusordo:wildcard-scope-in-production',
} as const;

/** Names that say nothing about the service or environment. Compared case-insensitively. */
export const VAGUE_AGENT_NAMES: readonly string[] = [
  'agent', 'agents', 'test', 'tests', 'testing', 'tmp', 'temp', 'demo', 'example', 'sample', 'foo', 'bar', 'baz',
  'bot', 'default', 'new', 'my-agent', 'new-agent', 'test-agent', 'service', 'services', 'all-services', 'shared',
  'shared-agent', 'admin', 'main', 'app', 'resource', 'ai', 'llm',
];

/** A vague word followed only by a number or separator: `agent1`, `test-2`, `bot_03`. */
const NUMBERED_VAGUE = /^(agent|test|bot|tmp|temp|demo|service|app|ai|llm)[-_.]?\d*$/i;

export interface AgentBestPracticesProps {
  /**
   * `environment` metadata values (and name suffixes, `…-prod`) that mark a production agent.
   * Compared case-insensitively.
   * @default ['prod', 'production', 'prd', 'live']
   */
  readonly productionEnvironments?: readonly string[];
  /**
   * Treat every agent in scope as production (for a stack that only deploys production).
   * @default false
   */
  readonly allProduction?: boolean;
}

export class AgentBestPractices implements IAspect {
  private readonly production: ReadonlySet<string>;
  private readonly allProduction: boolean;

  constructor(props: AgentBestPracticesProps = {}) {
    this.production = new Set((props.productionEnvironments ?? ['prod', 'production', 'prd', 'live']).map((e) => e.toLowerCase()));
    this.allProduction = props.allProduction ?? false;
  }

  public visit(node: IConstruct): void {
    if (!CertusOrdoAgent.isCertusOrdoAgent(node)) return;
    const name = node.agentName;
    if (!Token.isUnresolved(name) && isVagueAgentName(name)) {
      Annotations.of(node).addWarning(
        `[${WARNING_IDS.vagueName}] Agent name "${name}" is vague: name each agent after the service and environment it serves, for example "invoice-processor-prod".`,
      );
    }
    const wildcards = node.scopes.filter(isWildcardScope);
    if (wildcards.length && this.isProduction(node)) {
      Annotations.of(node).addWarning(
        `[${WARNING_IDS.wildcardInProduction}] Production agent "${Token.isUnresolved(name) ? node.node.path : name}" has wildcard scope${wildcards.length > 1 ? 's' : ''} ${wildcards.map((s) => `"${s}"`).join(', ')}: grant the specific actions it needs (least privilege).`,
      );
    }
  }

  private isProduction(agent: CertusOrdoAgent): boolean {
    if (this.allProduction) return true;
    const env = agent.environment?.toLowerCase();
    if (env !== undefined) return this.production.has(env);
    const name = agent.agentName;
    if (Token.isUnresolved(name)) return false;
    const suffix = name.toLowerCase().split(/[-_.]/).pop() ?? '';
    return this.production.has(suffix);
  }
}

/** True for names like `agent`, `agent1`, `test`, `Test-2` that do not identify a service. */
export function isVagueAgentName(name: string): boolean {
  const n = name.toLowerCase();
  return VAGUE_AGENT_NAMES.includes(n) || NUMBERED_VAGUE.test(n);
}
