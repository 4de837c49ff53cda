"""A tiny scripted HTTP peer on 127.0.0.1 for transport unit tests (like test/sdk/helpers/peer.ts):
each request gets the next scripted response and is recorded. A response with ``hang=True`` is
never answered until the test ends (for timeouts), so no test sleeps to coordinate."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Union


@dataclass
class Scripted:
    status: int = 200
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)
    hang: bool = False
    #: Close the connection without answering.
    drop: bool = False


@dataclass
class Received:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    client_port: int

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Script = Union[List[Scripted], Callable[[Received, int], Scripted]]


class Peer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: List[Received] = []
        self.release = threading.Event()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, self.client_address[1])
                peer.received.append(rec)
                index = len(peer.received) - 1
                if callable(peer.script):
                    r = peer.script(rec, index)
                else:
                    r = peer.script[index] if index < len(peer.script) else peer.script[-1]
                if r.hang:
                    peer.release.wait(30)
                    self.close_connection = True
                    return
                if r.drop:
                    self.close_connection = True
                    return
                payload = b"" if r.body is None else r.body.encode() if isinstance(r.body, str) else json.dumps(r.body).encode()
                self.send_response(r.status)
                if r.body is not None and not isinstance(r.body, str):
                    self.send_header("Content-Type", "application/json")
                for k, v in r.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def err(status: int, code: str, message: Optional[str] = None, **extra: Any) -> Scripted:
    return Scripted(status, {"error": {"code": code, "message": message or code, **extra}, "request_id": f"req-{status}"})


def wire_agent(**over: Any) -> Dict[str, Any]:
    base = {
        "id": "6f0d3c1e-8a53-4a55-9d69-0e9a3d3f1a01",
        "name": "payment-processor",
        "public_key": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "scopes": ["payments:read"],
        "status": "active",
        "metadata": {},
        "created_at": "2026-11-25T21:00:00.000Z",
        "updated_at": "2026-11-25T21:00:00.000Z",
        "last_auth_at": None,
    }
    base.update(over)
    return base
