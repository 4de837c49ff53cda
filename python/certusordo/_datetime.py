"""Timestamps that work both in timezone-aware code and in the product guide's naive arithmetic.

Every time the SDK returns (``agent.created_at``, ``agent.last_auth_at`` …) is a
:class:`UTCDateTime`: an ordinary, timezone-aware ``datetime`` in UTC (``isinstance(t, datetime)``
holds, ``t.tzinfo is timezone.utc``). Aware arithmetic and comparisons behave exactly as for any
aware datetime.

What it adds: arithmetic and comparisons with a **naive** datetime, which Python refuses between a
plain aware and a naive value (``TypeError: can't subtract offset-naive and offset-aware
datetimes``). The naive value is taken as **local time**, the same convention Python itself uses
for naive datetimes (``datetime.now()``, ``naive.timestamp()``, ``naive.astimezone()``). So the
guide's audit loop, ``(datetime.now() - agent.last_auth_at).days``, gives the real elapsed time in
any local timezone, and ``datetime.now(timezone.utc) - agent.last_auth_at`` keeps working.

How: Python tries the reflected method of the right operand first when its type is a subclass of
the left operand's type, so ``naive - t`` reaches ``UTCDateTime.__rsub__`` before
``datetime.__sub__`` can raise.

Caveats: a naive value that means UTC (``datetime.utcnow()``, deprecated) is read as local time,
like ``utcnow().timestamp()`` is; convert it with ``.replace(tzinfo=timezone.utc)``. Equality with
a naive datetime compares instants while ``hash`` stays the aware one, so do not mix naive and
aware datetimes as keys of one dict.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

__all__ = ["UTCDateTime", "parse_timestamp"]


def _local_aware(value: datetime) -> datetime:
    """A naive datetime as an aware one in the system's local timezone (Python's own reading)."""
    return value.astimezone()


def _is_naive(value: Any) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is None


class UTCDateTime(datetime):
    """An aware UTC ``datetime`` that also subtracts from, and compares with, naive local times."""

    __slots__ = ()

    def _plain(self) -> datetime:
        return datetime(
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.microsecond, self.tzinfo, fold=self.fold
        )

    def _operands(self, other: Any) -> "tuple[datetime, Any]":
        plain = self._plain()
        if plain.tzinfo is not None and _is_naive(other):
            return plain, _local_aware(other)
        return plain, other

    def __sub__(self, other: Any) -> Any:  # type: ignore[override]
        if isinstance(other, timedelta):
            return super().__sub__(other)
        if not isinstance(other, datetime):
            return NotImplemented
        a, b = self._operands(other)
        return a - b

    def __rsub__(self, other: Any) -> Any:
        if not isinstance(other, datetime):
            return NotImplemented
        a, b = self._operands(other)
        return b - a

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, datetime):
            return NotImplemented
        a, b = self._operands(other)
        return a == b

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, datetime):
            return NotImplemented
        a, b = self._operands(other)
        return a < b

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, datetime):
            return NotImplemented
        a, b = self._operands(other)
        return a <= b

    def __gt__(self, other: Any) -> bool:
        if not isinstance(other, datetime):
            return NotImplemented
        a, b = self._operands(other)
        return a > b

    def __ge__(self, other: Any) -> bool:
        if not isinstance(other, datetime):
            return NotImplemented
        a, b = self._operands(other)
        return a >= b

    __hash__ = datetime.__hash__

    def __repr__(self) -> str:
        return f"UTCDateTime({self.isoformat()!r})"

    @classmethod
    def from_datetime(cls, value: datetime) -> "UTCDateTime":
        """The same instant as a UTCDateTime (a naive value is taken as local time)."""
        aware = value if value.utcoffset() is not None else _local_aware(value)
        u = aware.astimezone(timezone.utc)
        return cls(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, timezone.utc)


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(value: str) -> UTCDateTime:
    """Parses the API's ISO 8601 times (``2026-11-25T21:00:00.000Z``) on every Python ≥ 3.9."""
    m = _ISO.match(value.strip())
    if not m:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    tz = m.group(8)
    if tz is None or tz in ("Z", "z"):
        offset = timedelta(0)
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    aware = datetime(year, month, day, hour, minute, second, micro, timezone(offset))
    return UTCDateTime.from_datetime(aware)


def parse_optional(value: Optional[str]) -> Optional[UTCDateTime]:
    return None if value is None else parse_timestamp(value)
