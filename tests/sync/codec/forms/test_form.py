"""The registry of column forms: one per wire tag, each with its cases and its test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sync.codec import CodecError
from sync.codec.forms import FORMS, DecodeContext, decode_column

HERE = Path(__file__).parent


def test_the_seventeen_tags_of_the_wire_format() -> None:
    assert sorted(FORMS) == sorted("cjvutfdbrqspkxmhT")


@pytest.mark.parametrize("tag", sorted(FORMS))
def test_every_form_has_its_cases_and_its_test(tag: str) -> None:
    module = sys.modules[type(FORMS[tag]).__module__].__name__.rsplit(".", 1)[1]
    assert (HERE.parent / "testdata" / "forms" / f"{module}.json").is_file()
    assert (HERE / f"test_{module}.py").is_file()


@pytest.mark.parametrize("enc", [["z"], ["T"]])
def test_an_unknown_form_is_a_codec_error(enc: list) -> None:
    ctx = DecodeContext(1, b"")
    with pytest.raises(CodecError, match="unknown column form"):
        ctx.decode(enc, 1)  # "T" is a whole column only, never nested
    if enc == ["z"]:
        with pytest.raises(CodecError, match="unknown column form"):
            decode_column("x", enc, ctx)
