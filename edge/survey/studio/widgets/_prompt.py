"""A say-play or gather widget's say / play / digits as an edgecall prompt."""

from __future__ import annotations

from typing import Any

from edge.survey._audio import DTMF_KEYS, dtmf_wav

from .._context import FlowContext, audio_name, slug


def prompt(name: str, props: dict[str, Any], language: str,
           ctx: FlowContext) -> dict[str, Any] | None:
    """``{language: text | {"text", "audio", "url"}}``. A ``play`` URL is kept as the
    recording's source: ``edgecall survey fetch-audio`` (or ``import-studio --fetch-audio``)
    brings it onto the box once, so modems play it offline."""
    key = language if "{{" not in language else ctx.options.default_language
    say, play, digits = props.get("say") or "", props.get("play") or "", props.get("digits")
    if play:
        if "{{" in play or "{%" in play:
            ctx.problem(name, f"plays {play!r}, a URL made per call: the box can only play "
                        "recordings it has; give a fixed URL or a say text", ".properties.play")
            return None
        return {key: {"text": say, "audio": audio_name(play), "url": play}}
    if digits:
        digits = str(digits)
        if set(digits) - DTMF_KEYS:
            ctx.problem(name, f"digits {digits!r}: only 0-9, *, #, A-D and w (a pause)",
                        ".properties.digits")
            return None
        path = f"audio/dtmf-{slug(name)}.wav"
        ctx.files[path] = dtmf_wav(digits)  # the tones as a recording every line can play
        return {key: {"text": say, "audio": path}}
    if not say:
        ctx.problem(name, "says nothing (no say, play or digits)", ".properties")
        return None
    return {key: say}
