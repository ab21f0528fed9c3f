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


def _public():
    from api_index import index_rows, public_names

    objects = {name: obj for _, names in public_names() for name, obj in names}
    return [(row, objects[row[0]]) for _, rows in index_rows() for row in rows]


def test_every_public_name_has_a_page_arguments_and_returns():
    """The API index: every name of ``hj.*`` and ``hopjax.nn`` is rendered on an API page, and
    its docstring has an ``Args:`` (or, for a dataclass-style class, ``Attributes:``) section
    (where it takes arguments; abstract bases are
    constructed by their subclasses) and, for a function, a ``Returns:`` section."""
    import inspect

    missing = []
    for (name, _, page, _, module), obj in _public():
        if not page:
            missing.append(f"{name}: {module} is on no API page")
        doc = inspect.getdoc(obj) or ""
        params = [p for p in inspect.signature(obj).parameters if p not in ("self", "key")]
        abstract = name.split(".")[-1].startswith("Abstract")
        # a dataclass-style module documents its fields (the constructor's arguments) as
        # Attributes: griffe does not see the __init__ equinox generates
        section = r"^(Args|Attributes):$" if inspect.isclass(obj) else r"^Args:$"
        if params and not abstract and not re.search(section, doc, re.M):
            missing.append(f"{name}: no Args")
        if inspect.isfunction(obj) and not re.search(r"^Returns:$", doc, re.M):
            missing.append(f"{name}: no Returns")
    assert not missing, missing


def test_docstring_examples_run():
    """Every ``Example:`` block of a public name's docstring runs, with the names it assumes
    (``xi``, ``cue``, ``query``, …) defined as small arrays of the right kind."""
    import inspect
    import textwrap

    import jax
    import jax.numpy as jnp

    import hopjax as hj

    xi = hj.random_bipolar(jax.random.PRNGKey(0), 5, 64)
    base = {"jax": jax, "jnp": jnp, "hj": hj, "xi": xi}
    base |= {"cue": hj.flip(jax.random.PRNGKey(1), xi[0], fraction=0.1), "query": xi[0] * 0.8}
    base |= {"stored": jnp.ones((7, 16)), "states": jnp.ones((3, 16)), "bag": jnp.ones((9, 64))}
    base["net"] = hj.Hopfield.from_patterns(xi)
    ran = 0
    for (name, *_), obj in _public():
        doc = inspect.getdoc(obj) or ""
        for block in re.findall(r"^Example:\n((?:    .*\n?|\n)+)", doc, re.M):
            code = re.search(r"```python\n(.*?)```", textwrap.dedent(block), re.S)
            exec(compile(code.group(1), f"<{name} example>", "exec"), dict(base))
            ran += 1
    assert ran >= 10
