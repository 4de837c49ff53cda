# Import a federated credential by <agent id>/<credential id>
# (GET /v1/agents/{id}/federated-credentials lists an agent's credentials).
terraform import certusordo_agent_federated_credential.release 01a214bb-6b6a-7000-b305-28c3c7f6620b/01a214bb-9d2e-7000-8c11-5f0e2b7a1c3d
