"""Contacts never appear in full in what the service stores or logs."""
from services.notification.domain.redact import mask, redact


def test_addresses_and_mobile_numbers_are_masked():
    assert mask("p210101001@family.example.com") == "p***@family.example.com"
    assert mask("18710026086") == "187****6086"
    assert mask("+86 18710026086") == "861****6086"
    text = "550 5.1.1 <parent.name@example.org>: no such user; sms to 13812345678 failed"
    assert redact(text) == "550 5.1.1 <p***@example.org>: no such user; sms to 138****5678 failed"


def test_ids_and_codes_that_are_not_contacts_stay_readable():
    text = "student 210101001 notice N-0a1b2c3d course MATH01 HTTP 503 errcode 45009"
    assert redact(text) == text
