import type { AuthenticatedKey } from '../services/organizations';

declare global {
  namespace Express {
    interface Request {
      id: string;
      apiKey?: AuthenticatedKey;
    }
  }
}
export {};
