"""Check the built documentation site (``site/``) for text meant for the team, not for users.

Every page but the maintainers' notes (``site/maintainers/``, not in the navigation) is read as
text (tags stripped) and searched for :data:`PHRASES`; each hit is printed with its page and
context, and the exit status is 1 when there is any. Run after ``mkdocs build``:
``python tools/check_site.py [SITE_DIR]``.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

PHRASES = (
    r"\blent\b",
    r"our search",
    r"extraction",
    r"previous committed run",
    r"\(module docstring",
    r"lost its equations",
)
"""Phrases (regular expressions, case-insensitive) no user page may contain."""


def page_text(path: Path) -> str:
    """The visible text of an HTML page: scripts, styles and tags removed, entities decoded."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", raw))


def hits(site: Path) -> list[str]:
    """``page: …context…`` for every phrase found on a user page of ``site``."""
    found = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site)
        if rel.parts[0] in ("maintainers", "404.html"):
            continue
        text = re.sub(r"\s+", " ", page_text(page))
        for phrase in PHRASES:
            for m in re.finditer(phrase, text, re.I):
                found.append(f"{rel}: …{text[max(0, m.start() - 60) : m.end() + 60]}…")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    site = Path(args[0] if args else "site")
    if not (site / "index.html").is_file():
        print(f"{site}: no built site (run `mkdocs build` first)", file=sys.stderr)
        return 2
    found = hits(site)
    for line in found:
        print(line)
    print(f"{len(found)} phrase(s) meant for the team on the user pages of {site}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
