"""No "1 errors": a count written straight before a plural noun in edge/ or sync/ must go
through edge.words.plural instead. Read from the source, so a new message is caught too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]

NOUNS = ("answers", "batches", "boxes", "callers", "calls", "checks", "errors", "files",
         "lines", "problems", "questions", "recordings", "records", "states", "warnings",
         "Maps")
_AFTER_FIELD = re.compile(r"^ (?:\w+ )?(" + "|".join(NOUNS) + r")\b")
_PERCENT = re.compile(r"%d (" + "|".join(NOUNS) + r")\b")

# Left as they are, and why: files being restructured by others at the time of writing.
KNOWN = {
    "edge/lines/simulated.py",  # LineStatus detail "N calls up"
    "edge/server/_server.py",  # log lines "%d calls left open", "hanging up %d calls"
}


def _violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            parts = [None, *node.values]
            for before, field, text in zip(parts, parts[1:], parts[2:], strict=False):
                # "the {name} checks" names something; it counts nothing.
                named = (isinstance(before, ast.Constant) and isinstance(before.value, str)
                         and before.value.endswith("the "))
                if (isinstance(field, ast.FormattedValue) and isinstance(text, ast.Constant)
                        and isinstance(text.value, str) and _AFTER_FIELD.match(text.value)
                        and not named):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text.value!r}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and _PERCENT.search(node.value)):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return found


def test_counts_before_plural_nouns_go_through_plural() -> None:
    found = [v for package in ("edge", "sync") for path in sorted((ROOT / package).rglob("*.py"))
             if str(path.relative_to(ROOT)) not in KNOWN for v in _violations(path)]
    assert not found, "use edge.words.plural(count, noun):\n" + "\n".join(found)
