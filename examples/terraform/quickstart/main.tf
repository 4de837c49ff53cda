# The CertusOrdo Terraform quickstart: a root module that applies as it stands (see README.md).

terraform {
  required_version = ">= 1.5"
  required_providers {
    certusordo = {
      source  = "registry.terraform.io/certusordo/certusordo"
      version = "~> 0.1"
    }
  }
}

# The endpoint and the API key come from CERTUSORDO_ENDPOINT (default http://127.0.0.1:8080) and
# CERTUSORDO_API_KEY, so no credential is written into the configuration.
provider "certusordo" {}

# A few agents, one per service, each with only the scopes it needs.
resource "certusordo_agent" "service" {
  for_each = var.services

  name   = "quickstart-${each.key}"
  scopes = each.value
  metadata = {
    managed_by = "terraform"
    example    = "quickstart"
  }
}

# The key the billing service authenticates with. Change `key_rotation` and apply again to rotate:
# with create_before_destroy the new key is added before the old one is removed, so the agent keeps
# its id and never stands without a key.
resource "certusordo_agent_key" "billing" {
  agent_id = certusordo_agent.service["billing"].id

  rotation_trigger = {
    rotation = var.key_rotation
  }

  lifecycle {
    create_before_destroy = true
  }
}

# An audit in code: this module's agents that have not authenticated for 30 days, or never.
# depends_on defers the read until the agents exist, so the first apply already lists them.
data "certusordo_agents" "inactive" {
  name_prefix    = "quickstart-"
  inactive_since = timeadd(plantimestamp(), "-720h")

  depends_on = [certusordo_agent.service]
}
