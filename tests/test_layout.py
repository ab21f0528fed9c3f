"""The repository's layout contract: the library imports no experiment and no matplotlib, has no
import cycle, declares what it imports, and points nowhere outside the repository."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_import_hopjax_pulls_in_no_experiment_and_no_matplotlib():
    code = (
        "import sys, hopjax, hopjax.sweep, hopjax.cli, hopjax.nn, hopjax.plot; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'experiments', 'sklearn') or 'hopjax_exp' in m); print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:`` (annotations only: never run)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
    return out


def _imports(path: Path, modules: set[str]) -> set[str]:
    """hopjax modules imported anywhere in the file — inside functions too (a lazy import is
    still a dependency, and a cycle through one breaks as soon as both ends are imported
    early); imports under ``if TYPE_CHECKING:`` only serve annotations and are left out."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_only(tree)
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hopjax"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("hopjax"))
    return out


def test_no_import_cycle_inside_hopjax():
    files = {_module_name(p): p for p in (ROOT / "hopjax").rglob("*.py")}
    graph = {name: _imports(path, set(files)) for name, path in files.items()}

    # importing hopjax.a.b first runs the package hopjax.a (its __init__): an edge to it too,
    # except for the importer's own packages, which are already being imported
    def parents(name: str) -> set[str]:
        return {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}

    for name, deps in graph.items():
        deps = deps | {p for d in deps for p in parents(d)}
        graph[name] = {d for d in deps if d in files and d not in parents(name) and d != name}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in graph[node]:
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack, node, dep]))
            if dep not in state:
                visit(dep, [*stack, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])
    assert "hopjax.sweep.run" in graph and not any("experiments" in d for d in graph)


# import name -> distribution name, where they differ
_DISTS = {"sklearn": "scikit-learn", "tomli_w": "tomli-w", "yaml": "pyyaml"}


def test_every_imported_third_party_package_is_declared():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        d.split(";")[0].split(">")[0].split("=")[0].split("[")[0].strip().lower()
        for d in meta["dependencies"]
    }
    stdlib = set(sys.stdlib_module_names)
    missing = set()
    for folder in ("hopjax", "experiments"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for n in names:
                    top = n.split(".")[0]
                    if top in stdlib or top in ("hopjax", "experiments", "tests"):
                        continue
                    if _DISTS.get(top, top).lower() not in declared:
                        missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        pytest.skip(
            "the layout checks read the tracked files from `git ls-files`; this tree is not a git "
            "checkout (e.g. an unpacked sdist). CI runs on a git clone, where they run."
        )
    return [ROOT / f for f in out.stdout.split() if (ROOT / f).is_file()]


def test_nothing_points_outside_the_repository():
    needles = ("../" + "shared", "seed " + "00", "specs/" + "cycles", "specs/" + "idp")
    bad = []
    for path in _tracked_files():
        if path.suffix not in (".py", ".md", ".toml", ".txt", ".json", ""):
            continue
        text = path.read_text(errors="ignore")
        bad += [f"{path.relative_to(ROOT)}: {n!r}" for n in needles if n in text]
    assert not bad, bad


def test_one_experiment_per_file_named_after_it():
    from hopjax.sweep import list_experiments

    found = list_experiments(ROOT / "experiments")
    assert len(found) >= 17
    for name, exp in found:
        assert not isinstance(exp, Exception), f"{name}: {exp}"
        assert exp.name == name
    configs = {
        tomllib.loads(p.read_text())["experiment"] for p in (ROOT / "configs").glob("*.toml")
    }
    assert configs <= {name for name, _ in found}
