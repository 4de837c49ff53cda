# A server-generated key pair: the one-time secret is available as a sensitive attribute.
resource "certusordo_agent" "payments" {
  name   = "payments-terraform"
  scopes = ["payments:read", "payments:write"]
  metadata = {
    team = "payments"
  }

  # Change a value to replace the agent (and so rotate its key).
  rotation_trigger = {
    rotated = "2026-11"
  }
}

# Bring your own Ed25519 public key (base64url of the 32 raw bytes): no secret is issued.
resource "certusordo_agent" "reporting" {
  name       = "report-builder"
  public_key = "C7xlxHAc-T0j8ktwKnGdfG1jfnF7e2ut9Lt9awbyTSY"
  scopes     = ["reports:read"]
  status     = "suspended" # enforced; leave unset to keep runtime suspensions
}

output "payments_agent_secret" {
  value     = certusordo_agent.payments.secret
  sensitive = true
}

# A secretless agent: its workload (the release workflow of acme/api) authenticates with its GitHub
# Actions OIDC token. No key is generated: `secret` and `public_key` are null, in plan and state.
resource "certusordo_agent" "release" {
  name   = "api-release"
  scopes = ["deployments:write"]

  federated_credential {
    issuer      = "https://token.actions.githubusercontent.com"
    subject     = "repo:acme/api:environment:production"
    claims_json = jsonencode({ workflow = "release" })
  }
}
