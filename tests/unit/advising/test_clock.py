"""The advising clock: real time in production; moved by set_clock only in test mode."""
from datetime import datetime
from types import SimpleNamespace

import pytest

from services.advising.clock import ClockAccess, ClockLocked, parse_moment


def clock(settable):
    return ClockAccess(SimpleNamespace(settable=settable, fixed=None))


def test_production_clock_is_the_real_time_and_cannot_be_moved():
    real = clock(False)
    assert abs((real.now() - datetime.now(real.now().tzinfo)).total_seconds()) < 5
    with pytest.raises(ClockLocked):
        real.set("2031-01-05")


def test_test_clock_moves_to_a_day_or_a_moment_in_the_college_time_zone_and_back():
    moved = clock(True)
    assert moved.set("2031-01-05").isoformat() == "2031-01-05T09:00:00+08:00"
    assert moved.today().isoformat() == "2031-01-05" and moved.moved
    assert moved.set("2031-01-05T23:30:00+00:00").date().isoformat() == "2031-01-06"
    moved.set(None)
    assert not moved.moved


def test_a_moment_that_is_not_a_date_is_refused():
    with pytest.raises(ValueError):
        parse_moment("next tuesday")
