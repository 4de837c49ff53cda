"""docs/guide.md, the project's guide to managing agents: its Python blocks, in order, run as written
in one namespace against a real control plane (PGlite and PostgreSQL), with the environment a user
sets (CERTUSORDO_API_KEY, CERTUSORDO_ENDPOINT); what they print and what they leave behind are
checked. Its TypeScript blocks are run the same way by test/sdk/guide.test.ts.

(The product description beside the repository, ../shared/product-docs/managing-agents.txt, is a
different text: test_guide.py runs its examples.)
"""
from __future__ import annotations

import contextlib
import io
import os
import re
from typing import Dict, Iterator, List

import pytest

from certusordo import CertusOrdoClient

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "guide.md")
FENCE = re.compile(r"^```([a-z]+)\n(.*?)^```$", re.M | re.S)


def blocks(lang: str) -> List[str]:
    with open(GUIDE, encoding="utf-8") as f:
        return [m.group(2) for m in FENCE.finditer(f.read()) if m.group(1) == lang]


@contextlib.contextmanager
def environment(values: Dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_every_block_compiles():
    sources = blocks("python")
    assert len(sources) >= 9
    for i, source in enumerate(sources):
        compile(source, f"<docs/guide.md python block {i + 1}>", "exec")


def test_the_blocks_run_as_written(server):
    out = io.StringIO()
    namespace: Dict[str, object] = {"__name__": "__guide__"}
    with environment({"CERTUSORDO_API_KEY": server.tests.api_key, "CERTUSORDO_ENDPOINT": server.url}), contextlib.redirect_stdout(out):
        for i, source in enumerate(blocks("python")):
            exec(compile(source, f"<docs/guide.md python block {i + 1}>", "exec"), namespace)
    lines = out.getvalue().splitlines()

    admin = CertusOrdoClient(api_key=server.tests.api_key, base_url=server.url)
    [agent] = admin.agents.list_page(name="guide-billing-bot").data
    assert agent.status == "revoked"
    assert agent.scopes == ["billing:read"]
    assert agent.metadata == {"team": "billing", "env": "prod"}
    assert lines[0] == f"created guide-billing-bot ({agent.id}), active"
    assert re.match(r"^refused: .*resource:action", lines[1]), lines[1]
    assert lines[2:4] == ["scopes now ['billing:read']", "token active: True, scope: billing:read"]
    rotated = re.match(r"^rotated to key ([A-Za-z0-9_-]{43})$", lines[4])
    assert rotated, lines[4]
    assert lines[5:7] == ["session active: 1 of 2 operations used", "suspended: no token"]
    assert re.match(r"^\d+ agent\.activated by api_key incident 42 closed$", lines[7]), lines[7]
    assert lines[8:] == ["chain valid: True", "guide-billing-bot is revoked"]

    # The refused create created nothing; the rotation left the old key revoked and the new one in place.
    assert admin.agents.list_page(name="guide-bad-scope").data == []
    keys = admin.agents.keys.list(agent.id)
    assert sorted(k.status for k in keys) == ["active", "revoked"]
    assert [k.kid for k in keys if k.status == "active"] == [rotated.group(1)]
    actions = {e.action for e in admin.audit_events.list(agent_id=agent.id)}
    assert {"agent.created", "agent.updated", "agent_key.created", "agent_key.revoked", "agent.suspended", "agent.activated", "agent.revoked"} <= actions
