"""How long the module takes to speak a prompt: an estimate from the text, scaled by what the
module's own end-of-speech reports have shown, and whether it reports the end at all. Pure.

Rates (sourced, not measured on a module; the learned scale corrects them):
- letters, spaces included: 14 per second: 150 words a minute, a common TTS and audiobook
  pace, times 5.7 characters a word with its space (English words average 4.7 letters);
- CJK ideographs and Hangul: 5 per second, one syllable each; kana and Ethiopic: 7 per second,
  one mora/syllable each (syllable rates of 5 to 8 a second across languages: Pellegrino,
  Coupé & Marsico 2011, "A cross-language perspective on speech information rate",
  Language 87(3));
- digits are read one by one, about 0.3 s each; a comma or a full stop is a short pause.
"""

from __future__ import annotations

LETTERS_PER_S = 14.0
SYLLABLES_PER_S = 5.0
MORAE_PER_S = 7.0
DIGIT_S = 0.3
PAUSE_S = {",": 0.15, ";": 0.15, ":": 0.15, ".": 0.3, "!": 0.3, "?": 0.3,
           "،": 0.15, "。": 0.3, "、": 0.15, "።": 0.3}
FLOOR_S = 0.3  # even "Yes" takes the engine a moment

# The learned scale stays within these: a report measured across a glitch must not make
# every later estimate absurd.
SCALE_RANGE = (0.05, 5.0)


def _char_seconds(ch: str) -> float:
    if ch in PAUSE_S:
        return PAUSE_S[ch]
    if ch.isdigit():
        return DIGIT_S
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xAC00 <= code <= 0xD7AF:
        return 1 / SYLLABLES_PER_S  # CJK ideographs, Hangul syllables
    if 0x3040 <= code <= 0x30FF or 0x1200 <= code <= 0x139F:
        return 1 / MORAE_PER_S  # kana, Ethiopic
    return 1 / LETTERS_PER_S


def spoken_seconds(text: str) -> float:
    """The unscaled estimate for one prompt."""
    return max(FLOOR_S, sum(_char_seconds(ch) for ch in " ".join(text.split())))


class SpeechTiming:
    """One per line, kept across calls. ``kind`` is how the text went to the module
    (``ascii``/``ucs2``): firmware has been seen to report the end of one and not the other."""

    def __init__(self, weight: float = 0.3) -> None:
        self.scale = 1.0
        self._weight = weight
        self._samples = 0
        self._reports: dict[str, bool] = {}

    def estimate(self, text: str) -> float:
        return spoken_seconds(text) * self.scale

    def learn(self, text: str, measured_s: float) -> None:
        """A prompt's end was reported ``measured_s`` after the module accepted it."""
        low, high = SCALE_RANGE
        ratio = min(high, max(low, measured_s / spoken_seconds(text)))
        self.scale = ratio if not self._samples else (
            (1 - self._weight) * self.scale + self._weight * ratio)
        self._samples += 1

    def too_short(self) -> None:
        """A prompt assumed over was still sounding (the module refused the next as busy):
        slow the pace down a step, so silent firmware is not cut short again and again."""
        self.scale = min(SCALE_RANGE[1], self.scale * 1.25)

    def reports(self, kind: str) -> bool | None:
        """Whether the firmware reports the end of this kind of prompt: None until known."""
        return self._reports.get(kind)

    def heard_report(self, kind: str) -> None:
        self._reports[kind] = True

    def heard_nothing(self, kind: str) -> None:
        """A prompt of this kind ended without a report. One lost report does not make a
        firmware silent: only a kind never reported is."""
        self._reports.setdefault(kind, False)

    def over_after(self, text: str, seconds: float | None = None) -> float:
        """Seconds after its start by which the prompt has surely been spoken (``seconds``:
        a recording's known length instead of the text's estimate)."""
        return 1.1 * (self.estimate(text) if seconds is None else seconds) + 0.2

    def wait_s(self, text: str, kind: str, seconds: float | None = None) -> float:
        """How long to wait for a prompt's end before going on without its report: close to
        its length when this kind is never reported, generous otherwise (a lost report then
        costs that one prompt this wait, and nothing later). A recording's length is known:
        the same guard as for speech, around its real length."""
        if self.reports(kind) is False:
            return self.over_after(text, seconds)
        return 1.5 * (self.estimate(text) if seconds is None else seconds) + 2.0
