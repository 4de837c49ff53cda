/**
 * An audit event's fields, as the API shows them: the control plane's row adds its organization and
 * the previous link of the chain, and the SDK's wire type is this with times as ISO strings.
 */
export interface AuditEventFields<Time> {
  id: string;
  /** Position in the organization's chain, from 1. */
  seq: number;
  action: string;
  actor_type: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  reason: string | null;
  request_id: string | null;
  client_ip: string | null;
  data: Record<string, unknown>;
  created_at: Time;
  /** HMAC-SHA256 chain link (hex). */
  hash: string;
}
