"""Without the product guide beside the repository (a user's clone), the guide's tests are skipped
with a visible reason, and the rest of the suite still collects and runs."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))


def test_guide_tests_skip_with_their_reason_when_the_guide_is_absent():
    missing = os.path.join(tempfile.mkdtemp(), "managing-agents.txt")
    env = {**os.environ, "CERTUSORDO_GUIDE": missing}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", os.path.join(TESTS, "test_guide.py"), "-rs", "-p", "no:cacheprovider",
         "-k", "not indentation"],
        cwd=os.path.dirname(os.path.dirname(TESTS)), env=env, capture_output=True, text=True, timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    summary = out.strip().splitlines()[-1]
    assert re.search(r"\b\d+ skipped\b", summary) and not re.search(r"passed|failed|error", summary), out
    assert f"the product guide is not beside the repository ({missing})" in out, out
