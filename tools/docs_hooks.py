"""MkDocs hooks for the documentation site: math is rendered to MathML when the site is built,
and the API names tutorials and guides mention link to their reference entries.

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


FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
NAME = re.compile(r"(?<![\[\w])`((?:hj|hopjax)(?:\.\w+)+|[A-Z][A-Za-z0-9]+)(\(\))?`(?![\]\(])")


def _identifier(dotted: str) -> str | None:
    """The reference entry of ``hj.X`` / ``hj.nn.X`` / ``hopjax.module[.X]`` (mkdocstrings'
    identifier: the path in the module that defines it), or ``None`` when the API pages do not
    render it (private, undocumented, or a module without a page)."""
    import importlib
    import inspect
    import sys

    sys.path.insert(0, "tools")
    from api_index import documented_modules

    pages = documented_modules()
    if "." not in dotted:  # a bare class name: one of hj.* or hopjax.nn's
        import hopjax
        import hopjax.nn

        if dotted in hopjax.__all__:
            dotted = f"hj.{dotted}"
        elif dotted in hopjax.nn.__all__:
            dotted = f"hj.nn.{dotted}"
        else:
            return None
    parts = dotted.replace("hj.", "hopjax.", 1).split(".")
    obj, path = None, parts[0]
    try:
        obj = importlib.import_module(path)
        for part in parts[1:]:
            if part.startswith("_"):
                return None
            obj = getattr(obj, part)
            path += "." + part
    except (ImportError, AttributeError):
        return None
    if inspect.ismodule(obj):
        return obj.__name__ if obj.__name__ in pages else None
    if not (inspect.isclass(obj) or inspect.isfunction(obj)) or not inspect.getdoc(obj):
        return None
    module = getattr(obj, "__module__", None)
    if module not in pages or "." in obj.__qualname__:
        return None
    names = getattr(sys.modules[module], "__all__", None)
    if names is not None and obj.__name__ not in names:
        return None
    return f"{module}.{obj.__qualname__}"


_IDS: dict[str, str | None] = {}


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Code spans naming a public object (`` `hj.run` ``, `` `hopjax.plot` ``,
    `` `hj.Hopfield()` ``, or a bare class of ``hj.*`` / ``hopjax.nn`` such as `` `DenseAM` ``)
    outside code blocks become links to its API entry (mkdocs-autorefs), on every page but the
    API reference itself."""
    if page.file.src_uri.startswith(("api/", "maintainers/")):
        return markdown

    def link(m: re.Match) -> str:
        dotted = m.group(1)
        if dotted not in _IDS:
            _IDS[dotted] = _identifier(dotted)
        ident = _IDS[dotted]
        return f"[{m.group(0)}][{ident}]" if ident else m.group(0)

    out, last = [], 0
    for block in FENCE.finditer(markdown):
        out.append(NAME.sub(link, markdown[last : block.start()]))
        out.append(block.group(0))
        last = block.end()
    out.append(NAME.sub(link, markdown[last:]))
    return "".join(out)
