from .agents import AgentKeys, Agents
from .api_keys import ApiKeys
from .audit_events import AuditEvents
from .sessions import Sessions

__all__ = ["Agents", "AgentKeys", "ApiKeys", "AuditEvents", "Sessions"]
