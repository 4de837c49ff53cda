data "certusordo_agents" "suspended_payments" {
  status      = "suspended"
  name_prefix = "payment-"
}

output "suspended_payment_agents" {
  value = [for a in data.certusordo_agents.suspended_payments.agents : a.name]
}
