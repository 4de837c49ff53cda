/**
 * /docs: the API reference rendered by Redoc from the served OpenAPI document, in headless
 * Chromium, with every request staying on the control plane's own origin (no CDN, no fonts from
 * elsewhere) and no Content-Security-Policy violation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, BrowserContext } from 'playwright-core';
import { startTestServer, TestServer } from '../support/server';
import { CHROMIUM, CHROMIUM_FLAGS, describeWithChromium } from '../support/chromium';

const describeBrowser = describeWithChromium('the API reference browser test');

let server: TestServer;
let context: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  server = await startTestServer({ backend: 'pglite' });
}, 120_000);
afterAll(async () => {
  await context?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  await server?.close();
});

describe('/docs without a browser', () => {
  it('serves the page with its own CSP, and the Redoc bundle from this origin', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:/);
    const html = await page.text();
    expect(html).toContain('<redoc spec-url="/v1/openapi.json"');
    expect(html).not.toMatch(/<script>(?!<)/); // no inline script: the CSP would refuse it
    const bundle = await fetch(`${server.url}/docs/redoc.standalone.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});

describeBrowser('/docs in a browser', () => {
  it('renders every operation of the OpenAPI document, with nothing fetched from another origin', async () => {
    if (!CHROMIUM) throw new Error('chromium is not on the PATH: the API reference browser test cannot run under CI (apt-get install -y chromium)');
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const page = await context.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('console', (m) => void (m.type() === 'error' && !/Failed to load resource/.test(m.text()) && problems.push(m.text())));
    // The browser's own favicon probe is not the page's doing.
    page.on('response', (r) => void (r.status() >= 400 && !r.url().endsWith('/favicon.ico') && problems.push(`${r.status()} ${r.url()}`)));
    page.on('pageerror', (e) => void problems.push(String(e)));
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.protocol.startsWith('http')) origins.add(u.origin);
    });
    await page.goto(`${server.url}/docs`);
    const doc = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary?: string }>> };
    const summaries = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.summary ?? ''));
    expect(summaries.length).toBeGreaterThan(20);
    // Redoc renders each operation's summary as a heading in the middle panel.
    await page.waitForSelector('h2', { timeout: 30_000 });
    const headings = await page.$$eval('h2', (els) => els.map((e) => (e.textContent ?? '').trim()));
    for (const s of summaries) expect(headings).toContain(s);
    expect([...origins]).toEqual([server.url]);
    expect(problems).toEqual([]);
  }, 120_000);
});
