"""When notices may go: quiet hours in the college's time zone, backoff with jitter, digest times, rate limits."""
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from services.notification.domain.schedule import (
    RateLimits, RetryPolicy, TokenBucket, next_digest_at, parse_digest_times, parse_quiet_hours, quiet_until,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT = parse_quiet_hours("guardian:sms=22:00-07:00")


def local(day, hour, minute=0):
    return datetime(2024, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize("at,held", [
    (local(5, 21, 59), None),
    (local(5, 22, 0), local(6, 7, 0)),
    (local(5, 23, 30), local(6, 7, 0)),
    (local(6, 0, 10), local(6, 7, 0)),
    (local(6, 6, 59), local(6, 7, 0)),
    (local(6, 7, 0), None),
    (local(6, 12, 0), None),
])
def test_guardian_sms_is_held_from_22_to_7_shanghai_time(at, held):
    assert quiet_until(DEFAULT, at, SHANGHAI, "guardian", "sms") == held


def test_quiet_hours_read_the_college_clock_whatever_the_given_zone():
    utc_afternoon = datetime(2024, 3, 5, 15, 30, tzinfo=timezone.utc)        # 23:30 in Shanghai
    assert quiet_until(DEFAULT, utc_afternoon, SHANGHAI, "guardian", "sms") == local(6, 7, 0)
    assert quiet_until(DEFAULT, utc_afternoon, ZoneInfo("Europe/London"), "guardian", "sms") is None


def test_quiet_hours_apply_only_to_their_recipient_kind_and_channel():
    night = local(5, 23)
    assert quiet_until(DEFAULT, night, SHANGHAI, "guardian", "email") is None
    assert quiet_until(DEFAULT, night, SHANGHAI, "student", "sms") is None
    everyone = parse_quiet_hours("*:sms=23:00-06:30, head_teacher:*=12:00-13:00")
    assert quiet_until(everyone, night, SHANGHAI, "student", "sms") == local(6, 6, 30)
    assert quiet_until(everyone, local(5, 12, 30), SHANGHAI, "head_teacher", "wecom") == local(5, 13)


def test_quiet_hours_settings():
    assert parse_quiet_hours("off") == parse_quiet_hours("") == ()
    [window] = parse_quiet_hours("guardian:sms=22:00-07:00")
    assert (window.start, window.end) == (time(22), time(7))
    for bad in ("guardian=22:00-07:00", "guardian:sms=22-07", "guardian:sms=25:00-07:00"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


def test_backoff_grows_exponentially_with_jitter_up_to_a_ceiling():
    policy = RetryPolicy(base=5, max_delay=60, max_attempts=4)
    lowest = [policy.delay(n, rng=lambda: 0.0) for n in range(1, 7)]
    highest = [policy.delay(n, rng=lambda: 0.999999) for n in range(1, 7)]
    assert lowest == [2.5, 5, 10, 20, 30, 30]
    assert [round(h) for h in highest] == [5, 10, 20, 40, 60, 60]
    import random
    rng = random.Random(7).random
    samples = {round(policy.delay(3, rng), 3) for _ in range(20)}
    assert len(samples) > 10 and all(10 <= s < 20 for s in samples)    # jitter spreads a crowd out
    assert not policy.gives_up(3) and policy.gives_up(4)


def test_next_digest_time_is_the_next_configured_time_of_day_in_the_college_zone():
    times = parse_digest_times("08:00")
    assert next_digest_at(times, local(5, 7, 59), SHANGHAI) == local(5, 8)
    assert next_digest_at(times, local(5, 8, 0), SHANGHAI) == local(6, 8)
    assert next_digest_at(times, local(5, 23), SHANGHAI) == local(6, 8)
    twice = parse_digest_times("14:00, 08:00")
    assert next_digest_at(twice, local(5, 9), SHANGHAI) == local(5, 14)
    now = local(5, 9)
    assert next_digest_at(parse_digest_times("off"), now, SHANGHAI) == now


def test_token_bucket_allows_a_minute_of_burst_then_paces():
    bucket = TokenBucket(per_minute=2)
    assert bucket.take(100.0) == 0 and bucket.take(100.0) == 0
    wait = bucket.take(100.0)
    assert wait == pytest.approx(30.0)          # one token every 30 s
    assert bucket.take(130.0) == 0
    limits = RateLimits({"sms": 60, "email": 0})
    assert limits.wait("email", 0) == 0 and limits.wait("in_app", 0) == 0   # no limit
    assert all(limits.wait("sms", 0.0) == 0 for _ in range(60)) and limits.wait("sms", 0.0) == pytest.approx(1.0)
