/**
 * Example CDKTF app run by examples/pipeline/pipeline.sh: the agents of two services in three
 * environments, and one secretless agent (a federated credential, no key), managed by CertusOrdo's
 * constructs.
 *
 * The provider reads CERTUSORDO_ENDPOINT and CERTUSORDO_API_KEY from the environment when
 * Terraform runs. The API key is deliberately NOT put into the provider block: the synthesized
 * JSON (cdktf.out/) is a build artifact CI often keeps, and must hold no credentials.
 */
import { App, Aspects, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { AgentBestPractices, CertusOrdoAgent, CertusordoProvider, ServiceAgents } from '@certusordo/cdktf';

/**
 * The billing cluster's service-account token issuer. The control plane cannot reach it, so its
 * public key is given inline (a public JWK: nothing secret).
 */
const CLUSTER_ISSUER = 'https://k8s.billing.example.test';
const CLUSTER_JWKS = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'C7xlxHAc-T0j8ktwKnGdfG1jfnF7e2ut9Lt9awbyTSY' }] };

export const STACK_NAME = 'certusordo-agents';

export class AgentsStack extends TerraformStack {
  public readonly agents: ServiceAgents;
  public readonly reconciler: CertusOrdoAgent;

  constructor(scope: Construct, id: string, env: NodeJS.ProcessEnv = process.env) {
    super(scope, id);
    // endpoint may come from the environment here or at deploy time; the key only at deploy time.
    new CertusordoProvider(this, 'certusordo', { endpoint: env.CERTUSORDO_ENDPOINT || undefined });

    this.agents = new ServiceAgents(this, 'Agents', {
      team: 'billing',
      version: env.RELEASE_VERSION ?? '1.4.0',
      environments: [{ name: 'dev', access: 'read-only' }, 'staging', 'prod'],
      services: [
        { name: 'invoice-processor', scopes: ['invoices:read', 'invoices:write', 'customers:read'] },
        { name: 'payment-service', scopes: ['payments:read', 'payments:write'], scopesByEnvironment: { staging: ['payments:read'] } },
      ],
    });

    // The secret exists only in the deploy that creates the agent: the pipeline reads it from the
    // outputs file (sensitive outputs included) and hands it to a secret store.
    const invoiceProd = this.agents.agent('invoice-processor', 'prod');
    invoiceProd.secretOutput('invoice_processor_prod_secret', { staticId: true });
    new TerraformOutput(this, 'invoice_processor_prod_id', { value: invoiceProd.agentId, staticId: true });
    new TerraformOutput(this, 'payment_service_prod_id', { value: this.agents.agent('payment-service', 'prod').agentId, staticId: true });

    // A secretless agent: the reconciler's pod authenticates with its service-account token, so
    // there is no key, no secret and no secret output; only its id is an output.
    this.reconciler = new CertusOrdoAgent(this, 'Reconciler', {
      name: 'ledger-reconciler-prod',
      scopes: ['invoices:read'],
      metadata: { team: 'billing', environment: 'prod' },
      federatedCredentials: [{ issuer: CLUSTER_ISSUER, subject: 'system:serviceaccount:billing:ledger-reconciler', jwks: CLUSTER_JWKS }],
    });
    new TerraformOutput(this, 'ledger_reconciler_prod_id', { value: this.reconciler.agentId, staticId: true });

    Aspects.of(this).add(new AgentBestPractices());
  }
}

if (require.main === module) {
  const app = new App();
  new AgentsStack(app, STACK_NAME);
  app.synth();
}
