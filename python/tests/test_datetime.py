"""UTCDateTime: the guide's `(datetime.now() - agent.last_auth_at).days` is right in every local
timezone, and timezone-aware code keeps working."""
from __future__ import annotations

import copy
import pickle
import time
from datetime import datetime, timedelta, timezone

import pytest

from certusordo import UTCDateTime
from certusordo._datetime import parse_timestamp


@pytest.fixture(params=["UTC0", "XXX+12", "XXX-14", "XXX+5:30"])
def local_tz(request, monkeypatch):
    """A local timezone (POSIX TZ: XXX+12 is UTC-12), restored afterwards."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def ago(**delta) -> UTCDateTime:  # type: ignore[no-untyped-def]
    return UTCDateTime.from_datetime(datetime.now(timezone.utc) - timedelta(**delta))


def test_the_guides_naive_subtraction_gives_the_real_elapsed_time(local_tz):
    t = ago(days=91, hours=2)
    elapsed = datetime.now() - t
    assert elapsed.days == 91
    assert abs(elapsed - timedelta(days=91, hours=2)) < timedelta(seconds=5)
    assert (datetime.now() - ago(days=90, hours=23)).days == 90
    assert abs((datetime.now() - ago(seconds=0)).total_seconds()) < 5


def test_aware_code_keeps_working(local_tz):
    t = ago(hours=3)
    assert t.tzinfo is timezone.utc and isinstance(t, datetime)
    assert abs((datetime.now(timezone.utc) - t) - timedelta(hours=3)) < timedelta(seconds=5)
    assert abs((t - datetime.now(timezone.utc)) + timedelta(hours=3)) < timedelta(seconds=5)
    assert t < datetime.now(timezone.utc) and datetime.now(timezone.utc) > t
    assert t + timedelta(hours=3) > datetime.now(timezone.utc) - timedelta(seconds=5)
    assert isinstance(t + timedelta(days=1), UTCDateTime)
    assert t.astimezone(timezone(timedelta(hours=2))).utcoffset() == timedelta(hours=2)
    assert t.isoformat().endswith("+00:00")


def test_naive_comparisons_and_both_subtraction_orders(local_tz):
    t = ago(hours=1)
    now = datetime.now()
    assert t < now and now > t and t <= now and now >= t and not (t > now)
    assert abs((t - now) + timedelta(hours=1)) < timedelta(seconds=5)
    instant = datetime.fromtimestamp(t.timestamp())  # the same instant as a naive local time
    assert t == instant and not (t != instant)


def test_plain_naive_values_still_refuse_to_mix_with_plain_aware_ones():
    # The subclass only adds behaviour to its own instances.
    with pytest.raises(TypeError):
        datetime.now() - datetime.now(timezone.utc)


def test_parsing_the_apis_timestamps():
    t = parse_timestamp("2026-11-25T21:00:00.123Z")
    assert t == datetime(2026, 11, 25, 21, 0, 0, 123000, timezone.utc)
    assert parse_timestamp("2026-11-25T23:00:00+02:00") == datetime(2026, 11, 25, 21, 0, tzinfo=timezone.utc)
    assert parse_timestamp("2026-11-25T21:00:00.123456789Z").microsecond == 123456
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def test_copies_pickles_hashes_and_repr():
    t = parse_timestamp("2026-11-25T21:00:00Z")
    assert pickle.loads(pickle.dumps(t)) == t and type(pickle.loads(pickle.dumps(t))) is UTCDateTime
    assert copy.deepcopy(t) == t
    assert hash(t) == hash(datetime(2026, 11, 25, 21, tzinfo=timezone.utc))
    assert {t: 1}[datetime(2026, 11, 25, 21, tzinfo=timezone.utc)] == 1
    assert repr(t) == "UTCDateTime('2026-11-25T21:00:00+00:00')"
    assert str(t) == "2026-11-25 21:00:00+00:00"
