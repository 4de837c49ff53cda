# Import a grant by <subject agent id>/<actor agent id> (the subject's may_act lists its actors).
terraform import certusordo_agent_delegation.ledger_for_orchestrator 01a214bb-6b6a-7000-b305-28c3c7f6620b/01a214bb-7c7b-7000-a305-28c3c7f6620c
