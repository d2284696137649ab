from __future__ import annotations

import pytest

from edge.privacy import Pseudonymiser, normalise_number, redact


def test_pseudonyms_are_keyed_stable_and_format_blind() -> None:
    a, b = Pseudonymiser(b"a" * 32), Pseudonymiser(b"b" * 32)
    assert a.pseudonym("+255 712-345 678") == a.pseudonym("+255712345678")
    assert a.pseudonym("+255712345678") != b.pseudonym("+255712345678")
    assert a.pseudonym("+255712345678").startswith("p:")
    assert "712345678" not in a.pseudonym("+255712345678")
    assert a.pseudonym(None) is None and a.pseudonym("") is None


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        Pseudonymiser(b"short")


def test_redact_and_normalise() -> None:
    assert redact("+255712345678") == "*" * 11 + "78"
    assert redact(None) == "withheld"
    assert normalise_number(" (0712) 345-678 ") == "0712345678"
