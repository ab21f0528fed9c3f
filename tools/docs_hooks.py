"""MkDocs hooks for the documentation site: math is rendered to MathML when the site is built.

``pymdownx.arithmatex`` (generic mode) marks ``$…$`` and ``$$…$$`` as
``<span class="arithmatex">\\(…\\)</span>`` / ``<div class="arithmatex">\\[…\\]</div>``; this hook
converts each to MathML with ``latex2mathml``, which every current browser renders natively.
No JavaScript and no CDN: pages show their equations offline and in headless screenshots.
"""

from __future__ import annotations

import html
import re
from typing import Any

from latex2mathml.converter import convert

INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)


def _mathml(tex: str, display: str) -> str:
    return convert(html.unescape(tex).strip(), display=display)


def on_config(config: Any, **kwargs: Any) -> Any:
    """The site's header names the version it documents (``hopjax.__version__``, which comes
    from ``pyproject.toml``: the one place the version is written)."""
    import hopjax

    config["site_name"] = f"hopjax {hopjax.__version__}"
    return config


def on_page_content(content: str, **kwargs: Any) -> str:
    block = lambda m: f'<div class="math">{_mathml(m.group(1), "block")}</div>'  # noqa: E731
    content = BLOCK.sub(block, content)
    return INLINE.sub(lambda m: _mathml(m.group(1), "inline"), content)
