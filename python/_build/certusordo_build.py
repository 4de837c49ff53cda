"""Minimal PEP 517 / PEP 660 build backend for the certusordo package, standard library only.

Why not setuptools: setuptools older than 70.1 cannot build a wheel without the separate `wheel`
package, which the machines this project runs on do not have, and the package index is not
reachable from them. This backend needs nothing: a wheel is a zip file with three metadata files.
It reads name, version, summary, Python requirement and dependencies from pyproject.toml.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("certusordo", "certusrodo")
TAG = "py3-none-any"


def _project() -> Dict[str, object]:
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("[project]", 1)[1].split("\n[", 1)[0]

    def value(key: str) -> str:
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % key, section, re.M)
        if not m:
            raise RuntimeError(f"pyproject.toml [project] lacks {key}")
        return m.group(1)

    deps_m = re.search(r"^dependencies\s*=\s*\[(.*?)\]", section, re.M | re.S)
    deps = re.findall(r'"([^"]+)"', deps_m.group(1)) if deps_m else []
    return {
        "name": value("name"),
        "version": value("version"),
        "description": value("description"),
        "requires_python": value("requires-python"),
        "dependencies": deps,
    }


def _metadata() -> str:
    p = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: {p['description']}",
        f"Requires-Python: {p['requires_python']}",
        "License: Apache-2.0",
        "Classifier: Typing :: Typed",
    ]
    lines += [f"Requires-Dist: {d}" for d in p["dependencies"]]  # type: ignore[union-attr]
    lines.append("Description-Content-Type: text/markdown")
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return "\n".join(lines) + "\n\n" + readme


def _dist_info() -> str:
    p = _project()
    return f"{p['name']}-{p['version']}.dist-info"


def _package_files() -> List[Tuple[str, str]]:
    out: List[Tuple[str, str]] = []
    for pkg in PACKAGES:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, pkg)):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".py", ".typed")):
                    full = os.path.join(dirpath, name)
                    out.append((full, os.path.relpath(full, ROOT).replace(os.sep, "/")))
    return out


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _write_wheel(directory: str, files: List[Tuple[str, bytes]]) -> str:
    p = _project()
    wheel_name = f"{p['name']}-{p['version']}-{TAG}.whl"
    info = _dist_info()
    meta = [
        (f"{info}/METADATA", _metadata().encode()),
        (f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: certusordo_build\nRoot-Is-Purelib: true\nTag: {TAG}\n".encode()),
    ]
    records = []
    with zipfile.ZipFile(os.path.join(directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in files + meta:
            zf.writestr(zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0)), data)
            records.append(_record_line(arcname, data))
        records.append(f"{info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)), "\n".join(records) + "\n")
    return wheel_name


def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[dict] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[dict] = None) -> str:
    info = os.path.join(metadata_directory, _dist_info())
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    return _dist_info()


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None, metadata_directory: Optional[str] = None) -> str:
    files = []
    for full, arcname in _package_files():
        with open(full, "rb") as f:
            files.append((arcname, f.read()))
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory: str, config_settings: Optional[dict] = None, metadata_directory: Optional[str] = None) -> str:
    # A .pth file puts this folder on sys.path: edits to the sources apply without reinstalling.
    return _write_wheel(wheel_directory, [("certusordo_editable.pth", (ROOT + "\n").encode())])


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    p = _project()
    base = f"{p['name']}-{p['version']}"
    name = f"{base}.tar.gz"
    extra = ["pyproject.toml", "README.md", "_build/certusordo_build.py"]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for rel in extra:
            tf.add(os.path.join(ROOT, rel), arcname=f"{base}/{rel}")
        for full, arcname in _package_files():
            tf.add(full, arcname=f"{base}/{arcname}")
        pkg_info = _metadata().encode()
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size = len(pkg_info)
        tf.addfile(ti, io.BytesIO(pkg_info))
    return name
