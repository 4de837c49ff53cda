/** StopProvider: Terraform was interrupted; cancel in-flight REST calls and pending retries. */
import type { ServerContext } from './context';

export function stopProvider(ctx: ServerContext): Record<string, unknown> {
  ctx.logger.warn('stop requested by Terraform; cancelling in-flight requests');
  ctx.stop.abort();
  return { Error: '' };
}
