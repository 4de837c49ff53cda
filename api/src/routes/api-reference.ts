/**
 * /docs: the API reference, rendered in the browser by Redoc from the served OpenAPI document.
 * Redoc's standalone bundle is copied into dist/api-reference by `npm run build` and served from
 * here, never from a CDN, so the reference works in closed networks and leaks no visit to a third
 * party. The page has a Content-Security-Policy of its own: scripts only from this origin (Redoc
 * initialises the `<redoc>` element itself, so there is no inline script), inline styles (Redoc's
 * styled-components inject them), and blob: workers (its search index).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import type { OpenApiDocument } from '../openapi';

export const API_REFERENCE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const BUNDLE = 'redoc.standalone.js';

/**
 * Redoc's sidebar footer shows a logo fetched from its vendor's CDN. The page must not call out to
 * another origin (closed networks; no third party learns who reads the reference), so the served
 * bundle points that image at an empty inline SVG instead.
 */
const VENDOR_LOGO = '"https://cdn.redoc.ly/redoc/logo-mini.svg"';
const EMPTY_IMAGE = JSON.stringify(`data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg"/>')}`);

function servedBundle(file: string): Buffer {
  return Buffer.from(fs.readFileSync(file, 'utf8').split(VENDOR_LOGO).join(EMPTY_IMAGE));
}

/** dist/api-reference: beside the @certusordo/server bundle, from the compiled tree (dist/api/src/routes) or from the sources (api/src/routes). */
function builtDir(): string {
  const besideBundle = path.join(__dirname, 'api-reference');
  if (fs.existsSync(path.join(besideBundle, BUNDLE))) return besideBundle;
  const fromCompiled = path.resolve(__dirname, '../../../api-reference');
  return fs.existsSync(path.join(fromCompiled, BUNDLE)) ? fromCompiled : path.resolve(__dirname, '../../../dist/api-reference');
}

/** The Redoc bundle to serve: the built copy, or (in a development tree) the devDependency itself. */
export function redocBundlePath(): string | null {
  const built = path.join(builtDir(), BUNDLE);
  if (fs.existsSync(built)) return built;
  try {
    return require.resolve(`redoc/bundles/${BUNDLE}`);
  } catch {
    return null;
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The document's operations as table rows: the page's fallback when JavaScript is off. */
export function operationRows(doc: OpenApiDocument): string {
  return Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${esc(p)}</code></td><td>${esc(op.summary)}</td><td>${esc(op['x-auth'])}</td></tr>`))
    .join('\n');
}

/** The page; the browser renders `doc` as served at /v1/openapi.json, and the table is the same document's. */
export function apiReferencePage(doc: OpenApiDocument): string {
  const fallbackRows = operationRows(doc);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>CertusOrdo API reference</title></head>
<body><redoc spec-url="/v1/openapi.json" hide-download-button="false" expand-responses="200,201" path-in-middle-panel="true"></redoc>
<noscript><h1>CertusOrdo API</h1><p>The reference needs JavaScript; the machine-readable document is <a href="/v1/openapi.json">/v1/openapi.json</a>.</p>
<table>${fallbackRows}</table></noscript>
<script src="/docs/${BUNDLE}"></script></body></html>`;
}

export function apiReferenceRouter(doc: OpenApiDocument): Router {
  const r = Router();
  const page = apiReferencePage(doc);
  r.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', API_REFERENCE_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  r.get('/', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(page);
  });
  let bundle: Buffer | undefined;
  r.get(`/${BUNDLE}`, (_req, res) => {
    const file = redocBundlePath();
    if (!file) return void res.status(503).type('text').send('The API reference is not built: run `npm run build`.\n');
    bundle ??= servedBundle(file);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('application/javascript').send(bundle);
  });
  return r;
}

/** Build step (`npm run build`): copies Redoc's standalone bundle and its licence into dist/api-reference. */
export function copyRedocBundle(outDir: string = path.resolve(__dirname, '../../../api-reference')): string {
  const source = require.resolve(`redoc/bundles/${BUNDLE}`);
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of [BUNDLE, `${BUNDLE}.LICENSE.txt`]) {
    const from = path.join(path.dirname(source), f);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(outDir, f));
  }
  return path.join(outDir, BUNDLE);
}

if (require.main === module) {
  process.stdout.write(`API reference: ${path.relative(process.cwd(), copyRedocBundle())}\n`);
}
