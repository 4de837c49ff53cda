/** StopProvider: Terraform was interrupted; cancel in-flight REST calls and pending retries. */
import type { ServerContext } from './context';
import type { StopProvider_ResponseInit } from './tfplugin6.gen';

export function stopProvider(ctx: ServerContext): StopProvider_ResponseInit {
  ctx.logger.warn('stop requested by Terraform; cancelling in-flight requests');
  ctx.stop.abort();
  return { Error: '' };
}
