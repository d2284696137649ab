"""Registration policy (pure): backoff after failures, refresh before the granted expiry."""

from __future__ import annotations

from hardware.sip._compat import RegistrationPolicy, granted_expires


def test_backoff_doubles_to_the_cap_and_resets():
    p = RegistrationPolicy(base=2, cap=30)
    assert [p.failure() for _ in range(6)] == [2, 4, 8, 16, 30, 30]
    assert p.success(600) == 570
    assert p.failures == 0 and p.registered
    assert p.failure() == 2


def test_refresh_margin():
    p = RegistrationPolicy()
    assert p.success(60) == 54
    assert p.success(3600) == 3570
    assert p.success(2) == 1


def test_granted_expires():
    assert granted_expires("120", ["<sip:box@1.2.3.4>;expires=60"], 300) == 60
    assert granted_expires("120", ["<sip:box@1.2.3.4>"], 300) == 120
    assert granted_expires(None, [], 300) == 300
