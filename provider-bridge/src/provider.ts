/**
 * The provider itself: its configuration schema, the registry of resources and data sources,
 * and ConfigureProvider's job of turning configuration (or env fallbacks) into a REST client.
 */
import { asString, isUnknown, type TfObject } from './codec/values';
import { RestClient } from './client/rest-client';
import { AuthenticationError, ConnectionError, PermissionDeniedError } from './client/errors';
import { API_KEY_FIX, ENDPOINT_FIX, diagFromError, error, type Diagnostic } from './diag';
import { str, type SchemaDef } from './schema/types';
import { agentResource } from './resources/agent';
import { agentDataSource } from './data-sources/agent';
import { agentsDataSource } from './data-sources/agents';
import type { DataSourceDefinition, ProviderData, ResourceDefinition } from './resources/types';
import type { Logger } from './log';

export const PROVIDER_ADDRESS = 'registry.terraform.io/certusordo/certusordo';

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
          'Base URL of the control plane, for example `https://certusordo.example.com`. Falls back to the `CERTUSORDO_ENDPOINT` environment variable.',
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

export const resources: readonly ResourceDefinition[] = [agentResource];
export const dataSources: readonly DataSourceDefinition[] = [agentsDataSource, agentDataSource];

export function validateProviderConfig(config: TfObject): Diagnostic[] {
  const endpoint = config.endpoint;
  if (typeof endpoint === 'string') return endpointDiagnostics(endpoint, 'endpoint');
  return [];
}

function endpointDiagnostics(endpoint: string, source: string): Diagnostic[] {
  let url: URL | null = null;
  try {
    url = new URL(endpoint);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return [error('Invalid endpoint', `${source} "${endpoint}" is not an http(s) URL. ${ENDPOINT_FIX}`, ['endpoint'])];
  }
  return [];
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
  if (isUnknown(config.endpoint) || isUnknown(config.api_key)) {
    return {
      data: null,
      diagnostics: [error('Provider configuration not known yet', '`endpoint` and `api_key` must be known during plan; do not derive them from resources created in the same run.')],
    };
  }
  const endpoint = asString(config.endpoint) ?? env.CERTUSORDO_ENDPOINT ?? '';
  const apiKey = asString(config.api_key) ?? env.CERTUSORDO_API_KEY ?? '';
  const diags: Diagnostic[] = [];
  if (!endpoint) {
    diags.push(error('Missing endpoint', `The control plane URL is not set. ${ENDPOINT_FIX}`, ['endpoint']));
  } else {
    diags.push(...endpointDiagnostics(endpoint, config.endpoint ? 'endpoint' : 'CERTUSORDO_ENDPOINT'));
  }
  if (!apiKey) diags.push(error('Missing API key', `No API key is configured. ${API_KEY_FIX}`, ['api_key']));
  if (diags.length) return { data: null, diagnostics: diags };

  const client = new RestClient({
    endpoint,
    apiKey,
    stopSignal: opts.stopSignal,
    logger: opts.logger,
    userAgent: `terraform-provider-certusordo (terraform ${opts.terraformVersion ?? 'unknown'})`,
  });
  if (opts.probe !== false) {
    // A short, single-retry probe: an unreachable endpoint should fail fast, not after backoff.
    const probe = new RestClient({ endpoint, apiKey, stopSignal: opts.stopSignal, logger: opts.logger, maxRetries: 1, timeoutMs: 10_000 });
    try {
      await probe.listAgentsPage({ limit: 1 });
    } catch (err) {
      if (err instanceof AuthenticationError) {
        return { data: null, diagnostics: [error('Invalid CertusOrdo API key', `The control plane at ${endpoint} rejected the API key. ${API_KEY_FIX}`, ['api_key'])] };
      }
      if (err instanceof ConnectionError) {
        return { data: null, diagnostics: [error('Cannot reach the CertusOrdo control plane', `${err.message}. ${ENDPOINT_FIX}`, ['endpoint'])] };
      }
      if (!(err instanceof PermissionDeniedError)) return { data: null, diagnostics: [diagFromError(err, 'verify the provider configuration')] };
    }
  }
  // Origin only: a URL's userinfo could hold a credential.
  opts.logger.info('provider configured', { endpoint: safeOrigin(endpoint) });
  return { data: { client, logger: opts.logger }, diagnostics: [] };
}

function safeOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return '(invalid URL)';
  }
}
