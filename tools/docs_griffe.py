"""Griffe extension for the documentation site: our docstrings are written in reST-flavoured
text (``code``, :func:`name` roles, ``::`` literal blocks); this turns the roles into Markdown
code spans and ``::`` into ``:`` so mkdocstrings renders them as text, not markup debris."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|obj|exc|data):`~?([^`]+)`")
LITERAL = re.compile(r"::$", re.M)


class ReSTRoles(griffe.Extension):
    """Rewrite every docstring once, after loading."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = ROLE.sub(lambda m: f"`{m.group(1)}`", obj.docstring.value)
            obj.docstring.value = LITERAL.sub(":", text)
