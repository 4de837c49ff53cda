data "certusordo_agents" "suspended_payments" {
  status      = "suspended"
  name_prefix = "payment-"
}

output "suspended_payment_agents" {
  value = [for a in data.certusordo_agents.suspended_payments.agents : a.name]
}

# An audit in code: active agents that have not authenticated for 30 days (or never).
data "certusordo_agents" "stale" {
  status         = "active"
  inactive_since = timeadd(plantimestamp(), "-720h")
}

# Agents that were created but never used.
data "certusordo_agents" "never_used" {
  never_authenticated = true
}

output "stale_agents" {
  value = [for a in data.certusordo_agents.stale.agents : a.name]
}

output "never_used_agents" {
  value = [for a in data.certusordo_agents.never_used.agents : a.name]
}
