"""The documentation's sources: user pages and library docstrings hold no text meant for the
team (the same phrases ``tools/check_site.py`` looks for in the built site, which CI runs after
``mkdocs build``)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from check_site import PHRASES, hits  # noqa: E402


def _sources() -> list[Path]:
    pages = [p for p in (ROOT / "docs").rglob("*.md") if "maintainers" not in p.parts]
    return [ROOT / "README.md", *pages, *(ROOT / "hopjax").rglob("*.py")]


def test_no_user_page_or_docstring_holds_team_notes():
    found = [
        f"{path.relative_to(ROOT)}: {m.group(0)!r}"
        for path in _sources()
        for phrase in PHRASES
        for m in re.finditer(phrase, path.read_text(encoding="utf-8"), re.I)
    ]
    assert not found, found


def test_site_check_finds_a_phrase_and_skips_the_maintainers_pages(tmp_path):
    (tmp_path / "index.html").write_text("<p>hopjax</p>")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text("<p>No GPU has been <b>lent</b> to us.</p>")
    (tmp_path / "maintainers").mkdir()
    (tmp_path / "maintainers" / "index.html").write_text("<p>the previous committed run</p>")
    found = hits(tmp_path)
    assert len(found) == 1 and found[0].startswith("a/index.html") and "lent" in found[0]
