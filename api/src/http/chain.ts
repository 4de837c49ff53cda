/**
 * Runs a chain of middleware as Express's router runs a route's stack: each step calls next() to
 * go on or next(err) to stop with an error; after an error only error handlers (four parameters)
 * run, and without one they are skipped. A step that returns a rejected promise passes the
 * rejection on as an error. Whatever leaves the chain goes to `done`.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

export type Step = RequestHandler | ErrorRequestHandler;

export function runChain(chain: readonly Step[], req: Request, res: Response, done: NextFunction): void {
  let i = 0;
  const next = (err?: unknown): void => {
    // Express's sentinels: 'route' and 'router' leave the route without an error.
    if (err === 'route' || err === 'router') return done();
    for (;;) {
      const step = chain[i++];
      if (!step) return done(err);
      const handlesErrors = step.length === 4;
      // As Express: any truthy value is an error.
      if (Boolean(err) !== handlesErrors) continue;
      try {
        const r: unknown = handlesErrors ? (step as ErrorRequestHandler)(err, req, res, next) : (step as RequestHandler)(req, res, next);
        if (r instanceof Promise) r.catch((e: unknown) => next(e ?? new Error('Rejected without a reason')));
      } catch (e) {
        next(e);
      }
      return;
    }
  };
  next();
}
