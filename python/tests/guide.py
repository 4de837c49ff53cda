"""Extracts the Python examples of the product guide (managing-agents.txt) and restores their
indentation, which the guide's text lost.

Code lines are recognised by their shape (a comment, an import, an assignment, a call, a compound
statement, a closing bracket); a block is a run of such lines plus every line inside open
brackets and the body line after a ``:`` header. Indentation is rebuilt from the structure alone:

- a line ending with ``:`` (outside brackets) opens a block; the next statement is its body;
- inside brackets, lines are continuation lines (one level deeper; a closing line at the opener's);
- ``elif``/``else``/``except``/``finally`` attach to the innermost open statement they belong to;
- any other statement after a completed body goes back to the top level: every body in the guide
  is a single statement (possibly compound, like the audit loop's ``if``/``elif`` inside a ``for``);
- comments keep the level of what follows them and change nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

_STATEMENT = re.compile(
    r"^(#|from\s|import\s|for\s|if\s|elif\s|else\s*:|try\s*:|except\b|finally\s*:|while\s|with\s|return\b|"
    r"[A-Za-z_][\w.]*\s*(=[^=]|\()|[)\]}])"
)
_CONTINUATION = {"elif": ("if",), "else": ("if", "for", "while", "try"), "except": ("try",), "finally": ("try",)}
_COMPOUND = {"if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class"}


@dataclass
class Example:
    index: int
    title: str
    source: str  # indentation restored
    first_line: int  # 1-based line number in the guide


def scan(line: str) -> Tuple[int, str]:
    """(bracket depth change, the code without a trailing comment), ignoring strings."""
    depth = 0
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c == "#":
            return depth, line[:i].rstrip()
        if c in "\"'":
            triple = line[i : i + 3] in ('"""', "'''")
            quote = line[i : i + 3] if triple else c
            i += len(quote)
            while i < n and line[i : i + len(quote)] != quote:
                i += 2 if line[i] == "\\" else 1
            i += len(quote)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    return depth, line.rstrip()


def _first_word(s: str) -> str:
    m = re.match(r"[A-Za-z_]+", s)
    return m.group(0) if m else ""


def is_code(line: str) -> bool:
    return bool(_STATEMENT.match(line.strip()))


def restore_indentation(lines: List[str]) -> str:
    out: List[str] = []
    stack: List[Tuple[int, str]] = []  # open compound statements: (indent, keyword)
    pending_body: Optional[int] = None  # indent of the body the last header opened
    depth = 0
    stmt_indent = 0
    for raw in lines:
        s = raw.strip()
        if depth > 0:
            delta, _ = scan(s)
            closing = s[:1] in ")]}"
            out.append("    " * (stmt_indent + (depth - 1 if closing else depth)) + s)
            depth += delta
            continue
        if s.startswith("#"):
            out.append("    " * (pending_body if pending_body is not None else 0) + s)
            continue
        word = _first_word(s)
        delta, code = scan(s)
        if pending_body is not None:
            indent = pending_body
        elif word in _CONTINUATION:
            while stack and stack[-1][1] not in _CONTINUATION[word] + (("if",) if word in ("elif", "else") else ()):
                stack.pop()
            if not stack:
                raise ValueError(f"{word!r} without an open statement: {s!r}")
            indent = stack[-1][0]
            stack.pop()
        else:
            indent = 0
            stack.clear()
        pending_body = None
        stmt_indent = indent
        out.append("    " * indent + s)
        depth = delta
        if depth == 0 and code.endswith(":") and word in _COMPOUND:
            kind = "if" if word in ("if", "elif") else "try" if word in ("try", "except") else word
            stack.append((indent, kind))
            pending_body = indent + 1
    return "\n".join(out) + "\n"


def extract_examples(text: str) -> List[Example]:
    lines = text.splitlines()
    examples: List[Example] = []
    i = 0
    last_prose = ""
    while i < len(lines):
        s = lines[i].strip()
        if not (is_code(s) and _first_word(s) not in _CONTINUATION and s[:1] not in ")]}"):
            if s:
                last_prose = s
            i += 1
            continue
        start = i
        block: List[str] = []
        depth = 0
        needs_body = False
        while i < len(lines):
            s = lines[i].strip()
            if not (depth > 0 or needs_body or is_code(s)):
                break
            block.append(s)
            delta, code = scan(s)
            if not s.startswith("#"):
                depth += delta
                needs_body = depth == 0 and code.endswith(":")
            i += 1
        examples.append(Example(len(examples) + 1, last_prose.rstrip(":"), restore_indentation(block), start + 1))
    return examples
