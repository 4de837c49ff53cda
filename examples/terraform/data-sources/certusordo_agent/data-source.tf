data "certusordo_agent" "by_name" {
  name = "payments-terraform"
}

data "certusordo_agent" "by_id" {
  id = "01a214bb-6b6a-7000-b305-28c3c7f6620b"
}

output "payments_terraform_scopes" {
  value = data.certusordo_agent.by_name.scopes
}
