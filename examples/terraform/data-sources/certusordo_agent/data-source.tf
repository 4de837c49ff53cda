# An agent managed elsewhere (another configuration, the console, the CLI), found by its name...
data "certusordo_agent" "by_name" {
  name = "payments-terraform"
}

# ...or by its id, handed in by whoever manages it (for example another configuration's output).
variable "payments_agent_id" {
  type = string
}

data "certusordo_agent" "by_id" {
  id = var.payments_agent_id
}

output "payments_terraform_scopes" {
  value = data.certusordo_agent.by_name.scopes
}
