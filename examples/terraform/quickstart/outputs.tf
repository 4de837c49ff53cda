output "agent_ids" {
  description = "Each service's agent id."
  value       = { for name, agent in certusordo_agent.service : name => agent.id }
}

# The billing service's credential (cos_…): shown only by `terraform output -raw billing_secret`.
# It is in the state too, so keep the state where secrets belong.
output "billing_secret" {
  value     = certusordo_agent_key.billing.secret
  sensitive = true
}

output "inactive_agents" {
  description = "Agents of this module that have not authenticated for 30 days (or never)."
  value       = sort([for a in data.certusordo_agents.inactive.agents : a.name])
}
