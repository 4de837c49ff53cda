terraform {
  # Ephemeral resources need Terraform 1.10 or later; older versions stop here with a clear error.
  required_version = ">= 1.10"
}

# The agent secret comes from outside Terraform (a secrets manager, a CI variable), so it is
# never written to the plan or state either.
variable "deploy_agent_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Minted when Terraform opens it (in plan and in apply), revoked when Terraform closes it.
ephemeral "certusordo_access_token" "deploy" {
  secret = var.deploy_agent_secret
  scopes = ["deploy:write"]
}

# Ephemeral values are accepted in provider blocks, provisioner blocks, locals and write-only
# arguments. Here a provisioner calls the control plane as the agent.
resource "terraform_data" "deploy_check" {
  provisioner "local-exec" {
    command = "curl -fsS -o /dev/null -H \"Authorization: Bearer $ACCESS_TOKEN\" \"$CERTUSORDO_ENDPOINT/v1/sessions\""
    environment = {
      ACCESS_TOKEN = ephemeral.certusordo_access_token.deploy.access_token
    }
  }
}
