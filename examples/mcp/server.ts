/**
 * An MCP server (official MCP TypeScript SDK, streamable HTTP, stateless) whose tools only
 * CertusOrdo agents of one organization may call: tokens minted for this server (`resource`),
 * holding `tools:read`, checked by `mcpTokenVerifier` and, with an introspector key, confirmed with
 * the control plane on every call (a suspended agent is refused within 1 s).
 *
 *   CERTUSORDO_ENDPOINT=http://127.0.0.1:8080 CERTUSORDO_ORGANIZATION_ID=<org id> \
 *   CERTUSORDO_INTROSPECTION_KEY=aa_… npm run example:mcp-server      # listens on http://127.0.0.1:3000/mcp
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { z } from 'zod';
import { mcpTokenVerifier, type AgentAuthExtra, type McpTokenVerifierOptions } from '@certusordo/sdk/mcp';

export interface ToolServerOptions {
  /** The organization's issuer (`<control plane URL>/orgs/<organization id>`). */
  issuer: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  introspection?: McpTokenVerifierOptions['introspection'];
}

export interface ToolServer {
  /** This MCP server's URL: the resource agents ask tokens for. */
  url: string;
  close(): Promise<void>;
}

/** The tools: `whoami` answers with the caller's identity as the verifier saw it; `add` adds. */
export function tools(): McpServer {
  const server = new McpServer({ name: 'certusordo-example-tools', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The calling agent, as its CertusOrdo token says' }, async (extra) => {
    const auth = extra.authInfo!;
    const { organizationId, sessionId, delegation } = auth.extra as AgentAuthExtra;
    return { content: [{ type: 'text', text: JSON.stringify({ agentId: auth.clientId, organizationId, sessionId, delegation, scopes: auth.scopes, resource: auth.resource?.href }) }] };
  });
  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  return server;
}

/** One MCP request, stateless: a fresh server and transport per request; `req.auth` is the caller. */
export async function mcpHandler(req: express.Request, res: express.Response): Promise<void> {
  const server = tools();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => void transport.close().then(() => server.close()));
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}

export async function startToolServer(options: ToolServerOptions): Promise<ToolServer> {
  const host = options.host ?? '127.0.0.1';
  const http: Server = createServer();
  await new Promise<void>((resolve, reject) => http.once('error', reject).listen(options.port ?? 3000, host, resolve));
  const url = `http://${host}:${(http.address() as AddressInfo).port}/mcp`;

  // The protection, all of it: the verifier, the metadata routes, and requireBearerAuth on /mcp.
  const verifier = mcpTokenVerifier({ issuer: options.issuer, resource: url, introspection: options.introspection });
  const app = express();
  app.use(mcpAuthMetadataRouter({ oauthMetadata: await verifier.authorizationServerMetadata(), resourceServerUrl: new URL(url), scopesSupported: ['tools:read'], resourceName: 'Example tools' }));
  const auth = requireBearerAuth({ verifier, requiredScopes: ['tools:read'], resourceMetadataUrl: verifier.resourceMetadataUrl, expectedResource: new URL(url) });

  app.post('/mcp', auth, express.json(), mcpHandler);
  // Stateless: no server-initiated stream and no session to delete.
  app.all('/mcp', auth, (_req, res) => void res.status(405).set('Allow', 'POST').json({ error: 'method_not_allowed' }));
  http.on('request', app);

  return {
    url,
    close: () => new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}

function fromEnv(): { issuer: string; port: number; introspection?: { apiKey: string } } {
  const env = process.env;
  const base = (env.CERTUSORDO_ENDPOINT ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const issuer = env.CERTUSORDO_ISSUER ?? (env.CERTUSORDO_ORGANIZATION_ID ? `${base}/orgs/${env.CERTUSORDO_ORGANIZATION_ID}` : '');
  if (!issuer) throw new Error('set CERTUSORDO_ORGANIZATION_ID (and CERTUSORDO_ENDPOINT), or CERTUSORDO_ISSUER');
  const apiKey = env.CERTUSORDO_INTROSPECTION_KEY;
  return { issuer, port: Number(env.PORT ?? 3000), ...(apiKey ? { introspection: { apiKey } } : {}) };
}

if (require.main === module) {
  Promise.resolve().then(() => startToolServer(fromEnv())).then(
    (s) => console.log(`MCP server listening on ${s.url}`),
    (err: unknown) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
