resource "certusordo_agent" "orchestrator" {
  name   = "orchestrator"
  scopes = ["payments:read", "payments:write"]
}

resource "certusordo_agent" "ledger" {
  name   = "ledger-agent"
  scopes = ["payments:read"]
}

# The ledger agent may act for the orchestrator: it exchanges the orchestrator's access token
# (RFC 8693 token exchange) for one with sub = orchestrator, act.sub = ledger-agent, and never
# needs to hold the orchestrator's own token. Destroying this resource ends those tokens at once.
resource "certusordo_agent_delegation" "ledger_for_orchestrator" {
  subject_agent_id = certusordo_agent.orchestrator.id
  actor_agent_id   = certusordo_agent.ledger.id
}
