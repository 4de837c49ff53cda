resource "certusordo_agent" "deployer" {
  name   = "deployer"
  scopes = ["deployments:write"]
}

# One more workload that may authenticate as the agent: the release workflow of acme/api, by its
# GitHub Actions OIDC token. The agent keeps its key; this adds a way in that needs no secret.
resource "certusordo_agent_federated_credential" "release" {
  agent_id    = certusordo_agent.deployer.id
  issuer      = "https://token.actions.githubusercontent.com"
  subject     = "repo:acme/api:environment:production"
  claims_json = jsonencode({ workflow = "release" })
}
