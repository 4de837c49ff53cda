/**
 * /console: the admin console's static assets, built by `npm run build` (Vite, console/) into
 * dist/console. Hashed files under assets/ are cached for a year (immutable); index.html is
 * revalidated on every load. The console gets a strict Content-Security-Policy of its own (no
 * inline scripts or styles, nothing from another origin) in place of the app-wide one.
 */
import express, { Request, Response, NextFunction, Router } from 'express';
import fs from 'node:fs';
import path from 'node:path';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/**
 * dist/console: beside the @certusordo/server bundle, or from the compiled tree
 * (dist/api/src/routes), or from the sources (api/src/routes, under ts-jest).
 */
export function defaultConsoleDir(): string {
  const besideBundle = path.join(__dirname, 'console');
  if (fs.existsSync(path.join(besideBundle, 'index.html'))) return besideBundle;
  const fromSources = path.resolve(__dirname, '../../../dist/console');
  return fs.existsSync(path.join(fromSources, 'index.html')) ? fromSources : path.resolve(__dirname, '../../../console');
}

export function consoleRouter(dir: string = defaultConsoleDir()): Router {
  const r = Router();
  const indexFile = path.join(dir, 'index.html');
  r.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  r.get('/', (req, res) => {
    // `/console` → `/console/` so that the relative asset URLs resolve.
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) return void res.redirect(301, '/console/');
    let html: string;
    try {
      html = fs.readFileSync(indexFile, 'utf8');
    } catch {
      return void res.status(503).type('text').send('The console is not built: run `npm run build`.\n');
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(html);
  });
  r.use('/assets', express.static(path.join(dir, 'assets'), {
    index: false,
    redirect: false,
    fallthrough: true,
    setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=31536000, immutable'),
  }));
  return r;
}
