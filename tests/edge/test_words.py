"""Counts, numbers and sizes as people write them, and the config messages built on them."""

from __future__ import annotations

import pytest

from edge.config import Key, Section
from edge.plugins import all_sections
from edge.words import number, plural, size


@pytest.mark.parametrize(("count", "noun", "text"), [
    (0, "answer", "0 answers"),
    (1, "answer", "1 answer"),
    (2, "answer", "2 answers"),
    (1, "batch", "1 batch"),
    (3, "batch", "3 batches"),
    (1, "box", "1 box"),
    (2, "box", "2 boxes"),
    (1, "error", "1 error"),
    (2, "entry", "2 entries"),
])
def test_plural(count: int, noun: str, text: str) -> None:
    assert plural(count, noun) == text


def test_plural_takes_an_explicit_plural_form() -> None:
    assert plural(2, "call up", "calls up") == "2 calls up"
    assert plural(1, "call up", "calls up") == "1 call up"


@pytest.mark.parametrize(("value", "text"), [
    (4000000, "4000000"),
    (4e6, "4000000"),
    (4194304.0, "4194304"),
    (31_536_000, "31536000"),
    (0.5, "0.5"),
    (0.1, "0.1"),
    (1e-7, "0.0000001"),
    (1200, "1200"),
    (-3.0, "-3"),
])
def test_number_never_uses_an_exponent(value: float, text: str) -> None:
    assert number(value) == text


def test_number_refuses_a_bool() -> None:
    with pytest.raises(TypeError):
        number(True)


@pytest.mark.parametrize(("n_bytes", "text"), [
    (4 * 1024 * 1024, "4 MiB"),
    (48 * 1024, "48 KiB"),
    (1024, "1 KiB"),
    (1000, "1000 bytes"),
    (1, "1 byte"),
    (0, "0 bytes"),
    (2 * 1024**3, "2 GiB"),
])
def test_size(n_bytes: int, text: str) -> None:
    assert size(n_bytes) == text


def test_limits_in_config_messages_are_plain_numbers_and_sizes() -> None:
    baud = Key("baud", int, 115200, "Speed.", min=1200, max=4000000)
    assert baud.expected() == "an integer from 1200 to 4000000"
    big = Key("batch_max_bytes", int, 49152, "Batch.", min=1024, max=4 * 1024 * 1024,
              unit="bytes")
    assert big.expected() == "an integer from 1024 to 4194304 (1 KiB to 4 MiB)"
    _values, problems = Section("hq", "HQ.", (big,)).parse({"batch_max_bytes": 5_000_000})
    assert [str(p) for p in problems] == [
        "hq.batch_max_bytes: got 5000000, expected an integer from 1024 to 4194304 "
        "(1 KiB to 4 MiB)"]


def test_list_keys_say_a_list_of_strings() -> None:
    assert Key("codecs", list, [], "Codecs.", item=str).expected() == "a list of strings"
    assert Key("ports", list, [], "Ports.", item=int).expected() == "a list of integers"


def test_no_installed_key_describes_itself_with_an_exponent_or_a_a() -> None:
    texts = [f"{s.name}.{k.name}: {k.expected()}" for s in all_sections() for k in s.keys]
    assert not [t for t in texts if "e+" in t or "e-0" in t or "of a " in t], texts
