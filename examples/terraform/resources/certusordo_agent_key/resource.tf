resource "certusordo_agent" "billing" {
  name   = "billing-worker"
  scopes = ["billing:read"]
}

# The key the workload uses. To rotate, change `rotation_trigger`: with create_before_destroy the
# new key is added before the old one is removed, so the agent keeps its id and always has a key.
resource "certusordo_agent_key" "billing" {
  agent_id = certusordo_agent.billing.id

  rotation_trigger = {
    rotated = "2026-12"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# A brought key: only its public half is sent; no secret is issued.
resource "certusordo_agent_key" "billing_hsm" {
  agent_id   = certusordo_agent.billing.id
  public_key = "C7xlxHAc-T0j8ktwKnGdfG1jfnF7e2ut9Lt9awbyTSY"
}

output "billing_agent_secret" {
  value     = certusordo_agent_key.billing.secret
  sensitive = true
}
