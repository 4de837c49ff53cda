/**
 * runChain (api/src/http/chain.ts) runs a route's steps as Express's router does: the direct lane
 * and the token endpoint's grant dispatch rely on the same semantics Express gives those steps.
 */
import type { NextFunction, Request, Response } from 'express';
import { runChain, Step } from '../../api/src/http/chain';

const req = {} as Request;
const res = {} as Response;

/** Runs `chain`; resolves with the steps that ran and what left the chain. */
function run(chain: (log: string[]) => Step[]): Promise<{ ran: string[]; left: unknown }> {
  const ran: string[] = [];
  return new Promise((resolve) => runChain(chain(ran), req, res, (err?: unknown) => resolve({ ran, left: err })));
}

const step = (name: string, then?: (next: NextFunction) => void) => (log: string[]) => (_q: Request, _s: Response, next: NextFunction) => {
  log.push(name);
  (then ?? ((n) => n()))(next);
};
const onError = (name: string, then?: (err: unknown, next: NextFunction) => void) => (log: string[]) => (err: unknown, _q: Request, _s: Response, next: NextFunction) => {
  log.push(`${name}(${err instanceof Error ? err.message : String(err)})`);
  (then ?? ((e, n) => n(e)))(err, next);
};
const chain = (...makers: Array<(log: string[]) => Step>) => (log: string[]) => makers.map((m) => m(log));

test('steps run in order; error handlers are skipped while nothing failed', async () => {
  expect(await run(chain(step('a'), onError('e'), step('b')))).toEqual({ ran: ['a', 'b'], left: undefined });
});

test('after next(err) only error handlers run, in order', async () => {
  const boom = new Error('boom');
  const { ran, left } = await run(chain(step('a', (n) => n(boom)), step('skipped'), onError('e1'), step('also skipped'), onError('e2')));
  expect(ran).toEqual(['a', 'e1(boom)', 'e2(boom)']);
  expect(left).toBe(boom);
});

test('an error handler that answers (calls no next) ends the chain there', async () => {
  const ran: string[] = [];
  let left = 'not reached';
  await new Promise<void>((answered) => {
    const steps = chain(step('a', (n) => n(new Error('x'))), onError('answers', () => answered()), step('never'), onError('never'))(ran);
    runChain(steps, req, res, () => (left = 'reached'));
  });
  expect(ran).toEqual(['a', 'answers(x)']);
  expect(left).toBe('not reached');
});

test('a handler that recovers with next() goes on to the next ordinary step', async () => {
  expect(await run(chain(step('a', (n) => n(new Error('x'))), onError('e', (_e, n) => n()), step('b')))).toEqual({ ran: ['a', 'e(x)', 'b'], left: undefined });
});

test('a thrown error and a rejected promise are errors; an unhandled one leaves the chain', async () => {
  const thrown = await run((log) => [() => { log.push('t'); throw new Error('thrown'); }, onError('e')(log)]);
  expect(thrown.ran).toEqual(['t', 'e(thrown)']);
  expect((thrown.left as Error).message).toBe('thrown');
  const rejected = await run((log) => [async () => { log.push('r'); throw new Error('rejected'); }, step('skipped')(log)]);
  expect(rejected.ran).toEqual(['r']);
  expect((rejected.left as Error).message).toBe('rejected');
});

test("next('route') leaves the chain without an error, as in Express", async () => {
  expect(await run(chain(step('a', (n) => n('route')), step('b')))).toEqual({ ran: ['a'], left: undefined });
});
