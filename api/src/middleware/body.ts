/** JSON bodies only (415 otherwise), bounded in size; a bodiless POST is an empty object. */
import express, { NextFunction, Request, Response } from 'express';
import { UnsupportedMediaTypeError } from '../errors';

function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

export function jsonBody(limitBytes: number, opts: { allowForm?: boolean } = {}) {
  const json = express.json({ limit: limitBytes, strict: false });
  const form = express.urlencoded({ limit: limitBytes, extended: false });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!hasBody(req)) {
      req.body = {};
      return next();
    }
    if (req.is('application/json')) return json(req, res, next);
    if (opts.allowForm && req.is('application/x-www-form-urlencoded')) return form(req, res, next);
    next(new UnsupportedMediaTypeError(`Send the body as application/json${opts.allowForm ? ' or application/x-www-form-urlencoded' : ''}`));
  };
}
