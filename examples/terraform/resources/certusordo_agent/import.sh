# Import an existing agent by its id. The secret is not recoverable, so it is null after import.
terraform import certusordo_agent.payments 01a214bb-6b6a-7000-b305-28c3c7f6620b
