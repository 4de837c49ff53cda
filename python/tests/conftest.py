"""Test fixtures: a real CertusOrdo control plane from this repository, on PGlite and PostgreSQL.

The session starts both servers at once, in the background, the first time a test needs one:
for each backend a fresh store, two organizations created with ``certusordo orgs create``
(``tests`` for the integration tests, ``guide`` for the product guide's examples, so the guide's
agent names never meet other tests' agents), then ``certusordo serve`` on a free port. PostgreSQL
is a disposable server from the machine's initdb/pg_ctl (as in bench/support/postgres.ts), or a
fresh database in ``TEST_DATABASE_URL`` when that is set. Readiness is the server's own "listening"
log line (an event, not a sleep).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional
from urllib.parse import urlsplit, urlunsplit

import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(PYTHON_DIR)
sys.path.insert(0, PYTHON_DIR)

CLI = os.path.join(REPO, "dist", "cli", "main.js")
START_TIMEOUT = 150.0
BACKENDS = ["pglite", "postgres"]


@dataclass
class Org:
    id: str
    api_key: str


@dataclass
class ServerInfo:
    backend: str
    url: str
    tests: Org
    guide: Org
    database_url: Optional[str] = None
    log: List[str] = field(default_factory=list)

    def issuer(self, org: Org) -> str:
        return f"{self.url}/orgs/{org.id}"


def _run_as_postgres(args: List[str]) -> None:
    cmd = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DisposablePostgres:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="certusordo-py-pg-")
        os.chmod(self.dir, 0o777)
        self.data = os.path.join(self.dir, "data")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        _run_as_postgres(["initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C"])
        self.port = _free_port()
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        _run_as_postgres(["pg_ctl", "-D", self.data, "-o", opts, "-l", os.path.join(self.dir, "log"), "-w", "start"])
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            _run_as_postgres(["pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _fresh_database(base_url: str) -> str:
    """A new empty database on the server of TEST_DATABASE_URL."""
    name = f"certusordo_py_{secrets.token_hex(4)}"
    subprocess.run(["psql", base_url, "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class ServerProcess:
    """One backend: store, organizations, and the running `certusordo serve`."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.ready = threading.Event()
        self.info: Optional[ServerInfo] = None
        self.error: Optional[BaseException] = None
        self.proc: Optional[subprocess.Popen] = None
        self.postgres: Optional[DisposablePostgres] = None
        self.data_dir = tempfile.mkdtemp(prefix=f"certusordo-py-{backend}-")
        self.lines: List[str] = []
        threading.Thread(target=self._start, name=f"server-{backend}", daemon=True).start()

    def _env(self, database_url: Optional[str], master_key: str) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTUSORDO_") and k not in ("DATABASE_URL", "PORT", "HOST")}
        env.update(CERTUSORDO_DATA_DIR=self.data_dir, CERTUSORDO_MASTER_KEY=master_key, LOG_LEVEL="info", HOST="127.0.0.1")
        if database_url:
            env["DATABASE_URL"] = database_url
        return env

    def _orgs_create(self, name: str, env: Dict[str, str]) -> Org:
        out = subprocess.run(["node", CLI, "--json", "orgs", "create", name], env=env, cwd=REPO, capture_output=True, text=True, timeout=START_TIMEOUT)
        if out.returncode != 0:
            raise RuntimeError(f"orgs create failed ({self.backend}): {out.stderr.strip()[-2000:]}")
        body = json.loads(out.stdout)
        return Org(body["organization"]["id"], body["api_key"]["key"])

    def _start(self) -> None:
        try:
            database_url: Optional[str] = None
            if self.backend == "postgres":
                if os.environ.get("TEST_DATABASE_URL"):
                    database_url = _fresh_database(os.environ["TEST_DATABASE_URL"])
                else:
                    self.postgres = DisposablePostgres()
                    database_url = self.postgres.url
            master_key = secrets.token_urlsafe(32)[:43]
            env = self._env(database_url, master_key)
            tests_org = self._orgs_create("tests", env)
            guide_org = self._orgs_create("guide", env)
            env["PORT"] = "0"
            self.proc = subprocess.Popen(
                ["node", CLI, "serve"], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                if self.info is None and '"CertusOrdo control plane listening"' in line:
                    url = json.loads(line)["url"]
                    self.info = ServerInfo(self.backend, url, tests_org, guide_org, database_url, self.lines)
                    self.ready.set()
            if self.info is None:
                raise RuntimeError(f"{self.backend} server exited before listening:\n" + "\n".join(self.lines[-30:]))
        except BaseException as err:  # reported to the test that waits for this server
            self.error = err
            self.ready.set()

    def wait(self) -> ServerInfo:
        if not self.ready.wait(START_TIMEOUT):
            raise RuntimeError(f"{self.backend} server did not start within {START_TIMEOUT:.0f} s:\n" + "\n".join(self.lines[-30:]))
        if self.error is not None:
            raise RuntimeError(f"{self.backend} server failed to start: {self.error}") from self.error
        assert self.info is not None
        return self.info

    def stop(self) -> None:
        # Let a start-up still under way finish first, so nothing it starts is left running.
        self.ready.wait(START_TIMEOUT)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.postgres is not None:
            self.postgres.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server_processes():
    if not os.path.exists(CLI):
        pytest.fail(f"{CLI} is missing: build the server first (npm run build)")
    procs: Dict[str, ServerProcess] = {}
    yield procs
    for p in procs.values():
        p.stop()



@pytest.fixture(scope="session", params=BACKENDS)
def server(request, server_processes) -> ServerInfo:
    # Start every backend the first time any is needed, so their start-ups overlap.
    if not server_processes:
        for b in BACKENDS:
            server_processes[b] = ServerProcess(b)
    return server_processes[request.param].wait()


@pytest.fixture()
def client(server):
    from certusordo import CertusOrdoClient

    with CertusOrdoClient(api_key=server.tests.api_key, base_url=server.url) as c:
        yield c


@pytest.fixture()
def unique():
    """A unique, valid agent name per call."""
    def make(prefix: str = "py") -> str:
        return f"{prefix}-{secrets.token_hex(4)}"

    return make
