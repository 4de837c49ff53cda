/** Small helpers for the construct tests: a stack with the provider, parsed synth output, warnings. */
import 'cdktf/lib/testing/adapters/jest'; // the matcher types for Testing.setupJest()
import { App, TerraformStack, Testing } from 'cdktf';
import type { IConstruct } from 'constructs';
import { CertusordoProvider } from '../../constructs/src';

export function stackWithProvider(app: App = Testing.app()): TerraformStack {
  const stack = new TerraformStack(app, 'test');
  new CertusordoProvider(stack, 'certusordo', {});
  return stack;
}

/** Synthesizes with aspects and validations, returning the JSON text and the parsed object. */
export function synth(stack: TerraformStack): { text: string; json: any } {
  const text = Testing.synth(stack, true);
  return { text, json: JSON.parse(text) };
}

/** The `certusordo_agent` resources of a synthesized stack, keyed by agent name. */
export function agentsByName(json: any): Record<string, any> {
  return Object.fromEntries(Object.values<any>(json.resource?.certusordo_agent ?? {}).map((r) => [r.name, r]));
}

/** Warning messages annotated on `scope` and everything below it. */
export function warnings(scope: IConstruct): string[] {
  return scope.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === '@cdktf/warn')
    .map((m) => String(m.data));
}
