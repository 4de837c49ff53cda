"""`pip install --no-build-isolation ./python` works offline, with the in-tree build backend."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_pip_installs_offline_without_build_isolation(tmp_path):
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", "--target", str(target), PYTHON_DIR],
        check=True, env=env, capture_output=True, cwd=tmp_path,
    )
    for path in ("certusordo/__init__.py", "certusordo/py.typed", "certusordo/auth/verify.py", "certusrodo/__init__.py", "certusrodo/py.typed"):
        assert (target / path).is_file(), path
    out = subprocess.run(
        [sys.executable, "-c", "from certusrodo import CertusOrdoClient, NotFoundError; import certusordo; print(certusordo.__file__)"],
        check=True, capture_output=True, text=True, env={**env, "PYTHONPATH": str(target)}, cwd=tmp_path,
    )
    assert out.stdout.startswith(str(target))


def test_wheel_metadata(tmp_path):
    sys.path.insert(0, os.path.join(PYTHON_DIR, "_build"))
    try:
        import certusordo_build
    finally:
        sys.path.pop(0)
    name = certusordo_build.build_wheel(str(tmp_path))
    assert name == "certusordo-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(tmp_path / name) as zf:
        names = zf.namelist()
        meta = zf.read("certusordo-0.1.0.dist-info/METADATA").decode()
        record = zf.read("certusordo-0.1.0.dist-info/RECORD").decode()
    assert "Requires-Dist: cryptography>=3.4" in meta and "Requires-Python: >=3.9" in meta
    assert not any("__pycache__" in n or "tests/" in n for n in names)
    assert all(n in record for n in names)
    assert certusordo_build.build_sdist(str(tmp_path)).endswith(".tar.gz")
