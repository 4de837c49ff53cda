# Import a key by <agent id>/<kid> (GET /v1/agents/{id}/keys lists an agent's kids). The secret is
# not recoverable, so it is null after import.
terraform import certusordo_agent_key.billing 01a214bb-6b6a-7000-b305-28c3c7f6620b/M3pVw1b2dU6mBqMD1wqN8Dp0Ed3rJx9mHvJX0W7d4ZI
