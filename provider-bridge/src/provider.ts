/**
 * The provider itself: its configuration schema, the registry of resources and data sources,
 * and ConfigureProvider's job of turning configuration (or env fallbacks) into a REST client.
 */
import { asString, isUnknown, type TfObject, type TfValue } from './codec/values';
import { RestClient } from './client/rest-client';
import { APIConnectionError, APIUserAbortError, AuthenticationError, PermissionDeniedError } from '../../sdk/src/core/errors';
import { displayEndpoint, endpointProblem, insecureFromEnv, isInsecureEndpointError, needsInsecureOptIn } from './client/endpoint';
import { API_KEY_FIX, ENDPOINT_FIX, diagFromError, error, type Diagnostic } from './diag';
import { bool, str, type SchemaDef } from './schema/types';
import { agentResource } from './resources/agent';
import { agentKeyResource } from './resources/agent-key';
import { agentDelegationResource } from './resources/agent-delegation';
import { agentFederatedCredentialResource } from './resources/agent-federated-credential';
import { accessTokenResource } from './resources/access-token';
import { agentDataSource } from './data-sources/agent';
import { agentsDataSource } from './data-sources/agents';
import type { DataSourceDefinition, EphemeralResourceDefinition, ProviderData, ResourceDefinition } from './resources/types';
import type { Logger } from './log';

export { PROVIDER_ADDRESS } from './address';

export const providerSchema = {
  version: 0,
  block: {
    description:
      'The CertusOrdo provider manages AI agent identities in a CertusOrdo control plane over its REST API.',
    attributes: {
      endpoint: {
        type: str,
        optional: true,
        description:
          'Base URL of the control plane, for example `https://certusordo.example.com`. Falls back to the `CERTUSORDO_ENDPOINT` environment variable. Plain `http://` is accepted only for loopback (`127.0.0.0/8`, `::1`, `localhost`) unless `insecure` is set; the URL must not contain credentials (`user:password@`), a query or a fragment.',
      },
      insecure: {
        type: bool,
        optional: true,
        description:
          'Allow a plain `http://` endpoint on a host that is not loopback. The API key and agent secrets then cross the network unencrypted: use it only on a network you trust. Falls back to the `CERTUSORDO_INSECURE` environment variable (`1` or `true`); when set here, it wins over the environment. Defaults to `false`.',
      },
      api_key: {
        type: str,
        optional: true,
        sensitive: true,
        description:
          'Organization API key (`aa_…`) with the `admin` role. Falls back to the `CERTUSORDO_API_KEY` environment variable, which keeps the key out of configuration files.',
      },
    },
  },
} satisfies SchemaDef;

export const resources: readonly ResourceDefinition[] = [agentResource, agentKeyResource, agentDelegationResource, agentFederatedCredentialResource];
export const dataSources: readonly DataSourceDefinition[] = [agentsDataSource, agentDataSource];
/** Served to Terraform >= 1.10 only; older versions reject `ephemeral` blocks before starting the provider. */
export const ephemeralResources: readonly EphemeralResourceDefinition[] = [accessTokenResource];

/**
 * Offline checks. Values may still be unknown here; the same checks run again in ConfigureProvider
 * with the environment fallbacks, before the first request.
 */
export function validateProviderConfig(config: TfObject, env: NodeJS.ProcessEnv = process.env): Diagnostic[] {
  const endpoint = config.endpoint;
  if (typeof endpoint !== 'string' || isUnknown(config.insecure)) return [];
  return endpointDiagnostics(endpoint, 'endpoint', resolveInsecure(config.insecure, env));
}

/** The provider block's `insecure` wins when set (true or false); else CERTUSORDO_INSECURE. */
function resolveInsecure(value: TfValue | undefined, env: NodeJS.ProcessEnv): boolean {
  return typeof value === 'boolean' ? value : insecureFromEnv(env);
}

function endpointDiagnostics(endpoint: string, source: string, insecure: boolean): Diagnostic[] {
  const problem = endpointProblem(endpoint, { insecure, source, fix: ENDPOINT_FIX });
  return problem ? [error(problem.summary, problem.detail, problem.quoteSource ? ['endpoint'] : undefined)] : [];
}

export interface ConfigureOptions {
  env?: NodeJS.ProcessEnv;
  stopSignal: AbortSignal;
  logger: Logger;
  terraformVersion?: string;
  /** Skips the credential probe (unit tests). */
  probe?: boolean;
}

/**
 * Resolves config and env, then probes the API once so a wrong key or endpoint is reported
 * against the provider block (with the attribute) instead of on every resource.
 */
export async function configureProvider(
  config: TfObject,
  opts: ConfigureOptions,
): Promise<{ data: ProviderData | null; diagnostics: Diagnostic[] }> {
  const env = opts.env ?? process.env;
  if (isUnknown(config.endpoint) || isUnknown(config.api_key) || isUnknown(config.insecure)) {
    return {
      data: null,
      diagnostics: [error('Provider configuration not known yet', '`endpoint`, `api_key` and `insecure` must be known during plan; do not derive them from resources created in the same run.')],
    };
  }
  const endpoint = asString(config.endpoint) ?? env.CERTUSORDO_ENDPOINT ?? '';
  const insecure = resolveInsecure(config.insecure, env);
  const apiKey = asString(config.api_key) ?? env.CERTUSORDO_API_KEY ?? '';
  const diags: Diagnostic[] = [];
  if (!endpoint) {
    diags.push(error('Missing endpoint', `The control plane URL is not set. ${ENDPOINT_FIX}`, ['endpoint']));
  } else {
    // Before the API key is used at all: a refused endpoint never receives a request.
    diags.push(...endpointDiagnostics(endpoint, config.endpoint ? 'endpoint' : 'CERTUSORDO_ENDPOINT', insecure));
  }
  if (!apiKey) diags.push(error('Missing API key', `No API key is configured. ${API_KEY_FIX}`, ['api_key']));
  if (diags.length) return { data: null, diagnostics: diags };
  const shown = displayEndpoint(new URL(endpoint));

  const client = new RestClient({
    endpoint,
    apiKey,
    insecure,
    stopSignal: opts.stopSignal,
    logger: opts.logger,
    userAgent: `terraform-provider-certusordo (terraform ${opts.terraformVersion ?? 'unknown'})`,
  });
  if (opts.probe !== false) {
    // A short, single-retry probe: an unreachable endpoint should fail fast, not after backoff.
    const probe = new RestClient({ endpoint, apiKey, insecure, stopSignal: opts.stopSignal, logger: opts.logger, maxRetries: 1, timeoutMs: 10_000 });
    try {
      await probe.listAgentsPage({ limit: 1 });
    } catch (err) {
      if (err instanceof AuthenticationError) {
        return { data: null, diagnostics: [error('Invalid CertusOrdo API key', `The control plane at ${shown} rejected the API key. ${API_KEY_FIX}`, ['api_key'])] };
      }
      if (isInsecureEndpointError(err)) {
        return { data: null, diagnostics: [error('Insecure endpoint', err.message, ['endpoint'])] };
      }
      if (err instanceof APIConnectionError && !(err instanceof APIUserAbortError)) {
        return { data: null, diagnostics: [error('Cannot reach the CertusOrdo control plane', `${err.message}. ${ENDPOINT_FIX}`, ['endpoint'])] };
      }
      if (!(err instanceof PermissionDeniedError)) return { data: null, diagnostics: [diagFromError(err, 'verify the provider configuration')] };
    }
  }
  if (needsInsecureOptIn(new URL(endpoint))) opts.logger.warn('plain http to a host that is not loopback, allowed by the insecure opt-in', { endpoint: shown });
  opts.logger.info('provider configured', { endpoint: shown });
  return { data: { client, logger: opts.logger }, diagnostics: [] };
}
