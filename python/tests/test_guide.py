"""The product guide's Python examples, run verbatim against a real control plane (both backends).

The examples are extracted from ../shared/product-docs/managing-agents.txt by tests/guide.py (the
guide's text lost its indentation; it is restored from the code's structure). The only changes to
the examples' text are its placeholders: "aa_your_api_key" / "aa_your_key" become the API key of
a fresh organization, "agent-uuid-here" the id of the agent the first example created. The client
finds the server through CERTUSORDO_ENDPOINT, as the guide's users' clients find theirs.

The examples run in order, in one namespace per backend, the way the guide reads (example 6
suspends the `agent` the previous examples left behind). The guide leaves two names to the reader,
which the harness binds and nothing else: `datetime` (the audit loop uses `datetime.now()` without
importing it) and `compromised_agent` (the agent to rotate).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import time
from datetime import datetime
from typing import Any, Callable, Dict, List

import pytest

from certusordo import (
    AgentCredentials,
    AuthenticationError,
    CertusOrdoClient,
    CreatedAgent,
    parse_agent_secret,
    public_key_from_private_key,
)
from certusordo.auth.keys import b64url

from .guide import Example, extract_examples, restore_indentation

GUIDE = os.environ.get(
    "CERTUSORDO_GUIDE", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "product-docs", "managing-agents.txt")
)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


# The guide sits beside the repository in the project's own checkouts (and CI), not in a user's
# clone: there the tests that read it are skipped, with this reason in pytest's summary (-rs).
GUIDE_MISSING = (
    f"the product guide is not beside the repository ({os.path.normpath(GUIDE)}); "
    "set CERTUSORDO_GUIDE to its path to run its examples"
)
needs_guide = pytest.mark.skipif(not os.path.isfile(GUIDE), reason=GUIDE_MISSING)


def _guide_text() -> str:
    with open(GUIDE, encoding="utf-8") as f:
        return f.read()


EXAMPLES: List[Example] = extract_examples(_guide_text()) if os.path.isfile(GUIDE) else []


@needs_guide
def test_extraction_finds_every_example_and_leaves_no_code_behind():
    assert len(EXAMPLES) == 13, [e.title for e in EXAMPLES]
    for e in EXAMPLES:
        compile(e.source, f"<guide example {e.index}>", "exec")
    # Every guide line that looks like Python is inside some example.
    extracted = "\n".join(e.source for e in EXAMPLES)
    for line in _guide_text().splitlines():
        if re.search(r"client\.|print\(|^from certusrodo|^(try|except|for|if|elif)\b", line.strip()):
            assert line.strip() in extracted, line


def test_indentation_restoration_rules():
    src = restore_indentation(
        [
            "for a in items:",
            "if a:",
            'print("x: (")  # a comment with ) and :',
            "elif a is None:",
            "print(1)",
            "else:",
            "print(2)",
            "# back at the top",
            "try:",
            "y = f(",
            "k={",
            '"a": "b:",',
            "}",
            ")",
            "except KeyError as e:",
            "pass",
            "try:",
            "pass",
            "finally:",
            "done = True",
            "z = 1",
        ]
    )
    assert src == (
        "for a in items:\n"
        "    if a:\n"
        '        print("x: (")  # a comment with ) and :\n'
        "    elif a is None:\n"
        "        print(1)\n"
        "    else:\n"
        "        print(2)\n"
        "# back at the top\n"
        "try:\n"
        "    y = f(\n"
        "        k={\n"
        '            "a": "b:",\n'
        "        }\n"
        "    )\n"
        "except KeyError as e:\n"
        "    pass\n"
        "try:\n"
        "    pass\n"
        "finally:\n"
        "    done = True\n"
        "z = 1\n"
    )


# ---- running the examples --------------------------------------------------------------------------


class GuideRun:
    """One backend's walk through the guide: the namespace the examples share, and facts for checks."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.ns: Dict[str, Any] = {"__name__": "__guide__", "datetime": datetime}
        self.first_agent_id: str = ""
        self.outputs: Dict[int, str] = {}
        self.admin = CertusOrdoClient(api_key=server.guide.api_key, base_url=server.url)


_runs: Dict[str, GuideRun] = {}


def _substitute(source: str, run: GuideRun) -> str:
    placeholders = {
        '"aa_your_api_key"': f'"{run.server.guide.api_key}"',
        '"aa_your_key"': f'"{run.server.guide.api_key}"',
        '"agent-uuid-here"': f'"{run.first_agent_id}"',
    }
    for placeholder, value in placeholders.items():
        source = source.replace(placeholder, value)
    return source


def _run(example: Example, run: GuideRun, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CERTUSORDO_ENDPOINT", run.server.url)
    monkeypatch.delenv("CERTUSORDO_API_KEY", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_substitute(example.source, run), f"<guide example {example.index}: {example.title}>", "exec"), run.ns)
    run.outputs[example.index] = out.getvalue()
    return out.getvalue()


def _names(run: GuideRun) -> Dict[str, Any]:
    return {a.name: a for a in run.admin.agents.list()}


def _check_create(run: GuideRun, out: str) -> None:
    agent = run.ns["agent"]
    assert isinstance(agent, CreatedAgent)
    lines = out.splitlines()
    assert re.fullmatch(rf"Agent ID: {UUID}", lines[0]) and lines[0] == f"Agent ID: {agent.id}"
    assert lines[1] == f"Public Key: {agent.public_key}"
    assert re.fullmatch(rf"Secret: cos_{UUID}_[A-Za-z0-9_-]{{43}}", lines[2])
    secret = lines[2][len("Secret: ") :]
    # The secret names the agent and holds the private key of the printed public key.
    agent_id, seed = parse_agent_secret(secret)
    assert agent_id == agent.id
    assert b64url(public_key_from_private_key(seed)) == agent.public_key
    # Shown once: nothing else the API returns carries it.
    fetched = run.admin.agents.get(agent.id)
    assert not hasattr(fetched, "secret")
    assert secret not in repr(agent) and secret not in repr(fetched)
    assert agent.scopes == ["payments:read", "payments:write"]
    run.first_agent_id = agent.id
    run.ns["_first_secret"] = secret  # not visible to the guide's code (no example reads it)


def _check_naming(run: GuideRun, out: str) -> None:
    names = _names(run)
    for n in ("invoice-processor-prod", "customer-support-agent-v2", "data-sync-staging", "agent1", "test"):
        assert names[n].status == "active"
    assert run.ns["agent"].name == "test" and run.ns["agent"].secret
    assert out == ""


def _check_scopes(run: GuideRun, out: str) -> None:
    assert sorted(run.ns["reader"].scopes) == ["data:read", "reports:read"]
    assert sorted(run.ns["admin"].scopes) == ["admin:manage", "data:delete", "data:read", "data:write"]


def _check_listing(run: GuideRun, out: str) -> None:
    names = _names(run)
    assert sorted(out.splitlines()) == sorted(f"{n}: active" for n in names)
    assert "payment-processor: active" in out.splitlines()
    assert {a.name for a in run.ns["active_agents"]} == set(names)


def _check_details(run: GuideRun, out: str) -> None:
    lines = out.splitlines()
    assert lines[0] == "Name: payment-processor"
    assert lines[1] == "Status: active"
    assert lines[2] == "Scopes: ['payments:read', 'payments:write']"
    assert re.fullmatch(r"Created: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?\+00:00", lines[3]), lines[3]
    assert lines[4] == "Last Auth: None"


def _check_suspend(run: GuideRun, out: str) -> None:
    assert out.splitlines() == ["suspended"]
    assert run.admin.agents.get(run.first_agent_id).status == "active"  # reactivated


def _check_revoke(run: GuideRun, out: str) -> None:
    assert run.admin.agents.get(run.first_agent_id).status == "revoked"
    # "Agent can no longer authenticate"
    creds = AgentCredentials.from_secret(run.ns["_first_secret"], base_url=run.server.url)
    with pytest.raises(AuthenticationError) as info:
        creds.get_token()
    assert info.value.code == "invalid_grant"


def _check_rotate(run: GuideRun, out: str) -> None:
    old = run.ns["compromised_agent"]
    new = run.ns["new_agent"]
    assert run.admin.agents.get(old.id).status == "revoked"
    assert new.name == f"{old.name}-rotated" and new.scopes == old.scopes and new.secret
    # "All active tokens are invalidated": the token it held before is inactive now.
    assert run.admin.introspect(run.ns["_compromised_token"]).active is False
    assert AgentCredentials.from_secret(new.secret, base_url=run.server.url).get_token()


def _check_metadata(run: GuideRun, out: str) -> None:
    agent = run.admin.agents.get(run.ns["agent"].id)
    assert agent.name == "data-processor"
    assert agent.metadata == {"environment": "production", "team": "data-engineering", "version": "1.2.0"}


def _check_services(run: GuideRun, out: str) -> None:
    names = _names(run)
    assert {"payment-service", "email-service", "all-services"} <= set(names)


def _check_environments(run: GuideRun, out: str) -> None:
    assert run.ns["dev_agent"].scopes == ["read"]
    assert sorted(run.ns["prod_agent"].scopes) == ["read", "write"]


def _check_audit(run: GuideRun, out: str) -> None:
    agents = list(run.admin.agents.list())
    never = {a.name for a in agents if a.last_auth_at is None}
    lines = out.splitlines()
    assert sorted(line for line in lines if line.startswith("Never used: ")) == sorted(f"Never used: {n}" for n in never)
    assert "Never used: processor-dev" in lines and "Never used: payment-processor" in lines
    assert "Never used: processor-prod" not in lines  # it authenticated just before the loop
    expected_inactive = ["Inactive 90+ days: processor-staging"] if run.ns.get("_backdated") else []
    assert [line for line in lines if line.startswith("Inactive")] == expected_inactive
    assert len(lines) == len(never) + len(expected_inactive)


def _check_errors(run: GuideRun, out: str) -> None:
    lines = out.splitlines()
    assert lines[0] == "Agent not found"
    assert lines[1].startswith("Invalid input: ")
    assert re.search(r"\bname: ", lines[1]), lines[1]  # the field detail is in str(e)
    assert len(lines) == 2


# Each example is recognised by a line of its own, so a changed guide fails loudly here.
CHECKS: Dict[str, Callable[[GuideRun, str], None]] = {
    'print(f"Secret: {agent.secret}")': _check_create,
    'agent = client.agents.create(name="agent1")': _check_naming,
    'name="report-generator",': _check_scopes,
    'active_agents = client.agents.list(status="active")': _check_listing,
    'print(f"Last Auth: {agent.last_auth_at}")': _check_details,
    "client.agents.suspend(agent.id)": _check_suspend,
    "# Revoke - permanent, cannot be undone": _check_revoke,
    "client.agents.revoke(compromised_agent.id)": _check_rotate,
    '"team": "data-engineering",': _check_metadata,
    'email_agent = client.agents.create(name="email-service")': _check_services,
    'prod_agent = client.agents.create(name="processor-prod", scopes=["read", "write"])': _check_environments,
    "elif (datetime.now() - agent.last_auth_at).days > 90:": _check_audit,
    'except ValidationError as e:': _check_errors,
}


def _check_for(example: Example) -> Callable[[GuideRun, str], None]:
    found = [check for marker, check in CHECKS.items() if marker in example.source]
    assert len(found) == 1, f"example {example.index} ({example.title}) matches {len(found)} checks"
    return found[0]


def _prepare(example: Example, run: GuideRun, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the reader of the guide has in hand before some examples (never a change to their text)."""
    check = _check_for(example)
    if check is _check_rotate:
        compromised = run.admin.agents.create(name="billing-worker", scopes=["billing:read"])
        run.ns["compromised_agent"] = compromised
        run.ns["_compromised_token"] = AgentCredentials.from_secret(compromised.secret, base_url=run.server.url).get_token()
    if check is _check_audit:
        # processor-prod is in use; on PostgreSQL processor-staging was last used 91 days and 2 hours ago.
        AgentCredentials.from_secret(run.ns["prod_agent"].secret, base_url=run.server.url).get_token()
        if run.server.backend == "postgres":
            staging = run.ns["staging_agent"].id
            subprocess.run(
                ["psql", run.server.database_url, "-v", "ON_ERROR_STOP=1", "-c",
                 f"update agents set last_auth_at = now() - interval '91 days 2 hours' where id = '{staging}'"],
                check=True, capture_output=True,
            )
            run.ns["_backdated"] = True
        # A local timezone far from UTC: the guide's naive `datetime.now()` must still give the
        # real elapsed time (a naive-UTC value would be 12 hours off and miss the 91-day agent).
        monkeypatch.setenv("TZ", "XXX+12")
        time.tzset()


def _example_params() -> List[Any]:
    if not EXAMPLES:
        return [pytest.param(None, id="guide-not-found", marks=pytest.mark.skip(reason=GUIDE_MISSING))]
    return [pytest.param(e, id=f"{e.index:02d}-{re.sub(r'[^a-z0-9]+', '-', e.title.lower()).strip('-')[:40]}") for e in EXAMPLES]


@pytest.mark.parametrize("example", _example_params())
def test_guide_example(example: Example, server, monkeypatch):
    run = _runs.setdefault(server.backend, GuideRun(server))
    if example.index > 1 and not run.first_agent_id:
        pytest.fail("the first example did not run (it creates the agent the others use)")
    try:
        _prepare(example, run, monkeypatch)
        out = _run(example, run, monkeypatch)
    finally:
        monkeypatch.undo()
        time.tzset()
    _check_for(example)(run, out)
