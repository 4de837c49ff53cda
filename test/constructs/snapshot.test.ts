/**
 * The example pipeline app's synthesized Terraform JSON, as a snapshot: a change to the constructs
 * or the generated bindings that alters what users deploy shows up here for review.
 */
import { Testing } from 'cdktf';
import { AgentsStack, STACK_NAME } from '../../examples/pipeline/main';
import { warnings } from './helpers';

test('synthesized JSON of the example pipeline app', () => {
  const app = Testing.app();
  const stack = new AgentsStack(app, STACK_NAME, { CERTUSORDO_ENDPOINT: 'https://certusordo.example.com', RELEASE_VERSION: '1.4.0' });
  const json = JSON.parse(Testing.synth(stack, true));
  expect(json).toMatchSnapshot();
  // The key never reaches the synthesized files; the provider reads CERTUSORDO_API_KEY at deploy time.
  expect(json.provider.certusordo).toEqual([{ endpoint: 'https://certusordo.example.com' }]);
  // The secretless agent declares a federated credential and has no secret output; only the keyed agent has one.
  expect(Object.values<{ federated_credential?: unknown }>(json.resource.certusordo_agent).filter((r) => r.federated_credential)).toHaveLength(1);
  expect(Object.values<{ value: string }>(json.output).filter((o) => o.value.endsWith('.secret}')).map((o) => o.value)).toEqual([
    '${certusordo_agent.Agents_invoice-processor-prod_9B11906B.secret}',
  ]);
  // The example follows the best practices it demonstrates.
  expect(warnings(stack)).toEqual([]);
});
