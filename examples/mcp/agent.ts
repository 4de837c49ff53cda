/**
 * An agent that calls an MCP server's tools with its CertusOrdo identity, using the official MCP
 * client unmodified: its stock `PrivateKeyJwtProvider` (client credentials, `private_key_jwt`, the
 * agent's own Ed25519 key). On the first 401 the client follows the server's RFC 9728 metadata to
 * the organization's issuer, gets a token bound to the server (`resource`), and retries.
 *
 *   CERTUSORDO_AGENT_SECRET=cos_… CERTUSORDO_ENDPOINT=http://127.0.0.1:8080 CERTUSORDO_ORGANIZATION_ID=<org id> \
 *   MCP_SERVER_URL=http://127.0.0.1:3000/mcp npm run example:mcp-agent
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { agentPrivateJwk } from '@certusordo/sdk';

export interface AgentRunOptions {
  serverUrl: string;
  /** The agent's secret (`cos_…`). */
  secret: string;
  /** The organization's issuer: the client sends the agent's key to this issuer only. */
  issuer: string;
  /** The JWS algorithm name of the assertion: `EdDSA` (RFC 8037) or `Ed25519` (RFC 9864); both mean the same key. */
  algorithm?: 'EdDSA' | 'Ed25519';
  scope?: string;
}

/** Connects, lists the tools, calls `whoami` and `add`; returns what they answered. */
export async function runAgent(o: AgentRunOptions): Promise<{ tools: string[]; whoami: Record<string, unknown>; sum: string }> {
  const { agentId, jwk } = await agentPrivateJwk(o.secret);
  const authProvider = new PrivateKeyJwtProvider({ clientId: agentId, privateKey: jwk, algorithm: o.algorithm ?? 'EdDSA', expectedIssuer: o.issuer, scope: o.scope ?? 'tools:read' });
  const client = new Client({ name: 'certusordo-example-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(o.serverUrl), { authProvider }));
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const whoami = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as Record<string, unknown>;
    const sum = textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }));
    return { tools, whoami, sum };
  } finally {
    await client.close();
  }
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  const first = (result.content as Array<{ type: string; text?: string }>)[0];
  if (result.isError || first?.type !== 'text' || first.text === undefined) throw new Error(`the tool failed: ${JSON.stringify(result.content)}`);
  return first.text;
}

if (require.main === module) {
  const env = process.env;
  const base = (env.CERTUSORDO_ENDPOINT ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const issuer = env.CERTUSORDO_ISSUER ?? `${base}/orgs/${env.CERTUSORDO_ORGANIZATION_ID ?? ''}`;
  runAgent({ serverUrl: env.MCP_SERVER_URL ?? 'http://127.0.0.1:3000/mcp', secret: env.CERTUSORDO_AGENT_SECRET ?? '', issuer }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
