"""The API index of the documentation (``docs/api/index.md``): every public name of ``hj.*``
and ``hopjax.nn`` with its one-line summary and the API page that documents it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def documented_modules() -> dict[str, str]:
    """module → the API page (``docs/api/*.md``, relative to ``docs/api``) rendering it."""
    pages = {}
    for page in sorted((ROOT / "docs" / "api").glob("*.md")):
        for m in re.finditer(r"^::: ([\w.]+)", page.read_text(), re.M):
            pages.setdefault(m.group(1), page.name)
    return pages


def public_names() -> list[tuple[str, list[tuple[str, object]]]]:
    """``(section, [(name as users write it, object)])`` for ``hj.*`` and ``hopjax.nn``."""
    import hopjax as hj
    import hopjax.nn as nn

    return [
        ("hj.*", [(f"hj.{n}", getattr(hj, n)) for n in sorted(hj.__all__, key=str.lower)]),
        ("hopjax.nn", [(f"hj.nn.{n}", getattr(nn, n)) for n in nn.__all__]),
    ]


def _markdown(text: str) -> str:
    """reST roles and double backquotes as Markdown code spans (``:func:`~a.b``` → `` `b` ``)."""
    text = re.sub(r":\w+:`~?([^`]+)`", lambda m: f"`{m.group(1).split('.')[-1]}`", text)
    return text.replace("``", "`")


def index_rows() -> list[tuple[str, list[tuple[str, str, str, str, str]]]]:
    """Per section: ``(name, summary, page, anchor, module)`` for every public name; the
    anchor is the object's path in the module that defines it (mkdocstrings' heading id)."""
    pages = documented_modules()
    out = []
    for title, names in public_names():
        rows = []
        for name, obj in names:
            module = obj.__module__
            doc = inspect.getdoc(obj) or ""
            summary = _markdown(doc.split("\n\n")[0].replace("\n", " ")).replace("|", "\\|")
            rows.append((name, summary, pages.get(module, ""), f"{module}.{obj.__qualname__}",
                         module))  # fmt: skip
        out.append((title, rows))
    return out
