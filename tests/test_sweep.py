"""The sweep engine on a toy experiment (tests/toy.py): grid, grouping, keys, chunking,
sharding, resume, history, derive, and the run context."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest

from hopjax.sweep import (
    ConfigError,
    Experiment,
    RunContext,
    expand_grid,
    group_rows,
    read_history,
    read_results,
    run_sweep,
)
from tests.toy import EXPERIMENT as TOY
from tests.toy import ToyConfig, toy

ROOT = Path(__file__).resolve().parents[1]
N_ROWS = (2 * 2 * 2 * 2 - 2) * 3  # kind × n × scale × shift, less the 2 excluded points, × seeds


def test_grid_expansion_include_and_static_grouping():
    rows = expand_grid(toy(), TOY)
    assert len(rows) == N_ROWS
    assert rows[0] == {"kind": "a", "n": 4, "scale": 1.0, "shift": 0, "seed": 0}
    assert [r["seed"] for r in rows[:4]] == [0, 1, 2, 0]  # seeds innermost
    assert not any(r["kind"] == "b" and r["n"] == 8 and r["shift"] == 3 for r in rows)
    groups = group_rows(rows, TOY.static)
    assert list(groups) == [("a", 4), ("a", 8), ("b", 4), ("b", 8)]  # one compilation each
    assert [len(g) for g in groups.values()] == [12, 12, 12, 6]
    assert {r["seed"] for r in expand_grid(toy(base_seed=10), TOY)} == {10, 11, 12}


def test_results_are_byte_identical_for_any_chunk_size(tmp_path):
    ref = run_sweep(toy(), tmp_path / "auto", exp=TOY, progress=False)
    assert len(ref.rows) == N_ROWS
    assert ref.metadata["compile_seconds"] > 0 and ref.metadata["run_seconds"] > 0
    want = (tmp_path / "auto" / "results.csv").read_bytes()
    for size in (1, 5, 7):
        out = tmp_path / f"c{size}"
        other = run_sweep(toy(chunk_size=size), out, exp=TOY, progress=False)
        assert (out / "results.csv").read_bytes() == want
        assert (out / "history.csv").read_bytes() == (tmp_path / "auto/history.csv").read_bytes()
        groups = other.metadata["runs"][0]["groups"]
        assert [len(g["chunk_seconds"]) for g in groups] == [-(-n // size) for n in (12, 12, 12, 6)]
    # the comparison is not vacuous: values vary, and rows sharing draws agree
    assert len({r["value"] for r in ref.rows}) > 10
    by = {(r["kind"], r["n"], r["scale"], r["shift"], r["seed"]): r for r in ref.rows}
    a, b = by[("a", 4, 2.0, 0, 1)], by[("b", 4, 2.0, 0, 1)]
    assert a["count"] == b["count"] and a["value"] - 0.5 == pytest.approx(-(b["value"] - 0.5))


def test_key_exclude_shares_draws_and_other_keys_do_not():
    ctx = RunContext(TOY, toy(), Path("."))
    base = {"kind": "a", "n": 4, "scale": 1.0, "shift": 0, "seed": 0}
    k = ctx.keys([base, {**base, "kind": "b", "scale": 2.0}, {**base, "shift": 3}])
    assert np.array_equal(k[0], k[1])  # kind, scale excluded from the key
    assert not np.array_equal(k[0], k[2])  # shift is not
    assert np.array_equal(ctx.key(base), k[0])  # one derivation for one row or many


def test_results_identical_on_one_and_four_devices(tmp_path):
    run_sweep(toy(), tmp_path / "one", exp=TOY, progress=False)
    script = textwrap.dedent(
        f"""
        import jax
        from hopjax.sweep import run_sweep
        from tests.toy import EXPERIMENT, toy
        assert jax.device_count() == 4, jax.devices()
        run_sweep(toy(), {str(tmp_path / "four")!r}, exp=EXPERIMENT, progress=False)
        """
    )
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT, timeout=600)
    meta = json.loads((tmp_path / "four" / "metadata.json").read_text())
    assert meta["device_count"] == 4
    one = (tmp_path / "one" / "results.csv").read_bytes()
    assert (tmp_path / "four" / "results.csv").read_bytes() == one


def test_resume_after_interruption_loses_and_repeats_nothing(tmp_path):
    full = run_sweep(toy(chunk_size=4), tmp_path / "full", exp=TOY, progress=False)
    out = tmp_path / "staged"
    part = run_sweep(toy(chunk_size=4), out, exp=TOY, progress=False, max_chunks=4)
    assert 0 < len(part.rows) < N_ROWS and not (out / "summary.json").exists()
    # a crash in the middle of writing a row leaves a torn last line: it is dropped and redone
    with open(out / "results.csv", "a") as fh:
        fh.write("b,8,2.0,0,2,0.1")
    # a crash between a row's history and its result: the orphan history rows are dropped
    with open(out / "history.csv", "a") as fh:
        fh.write("b,8,2.0,0,2,0,9.0\n")
    done = run_sweep(toy(chunk_size=4), out, exp=TOY, progress=False)
    rows = read_results(out / "results.csv", toy())
    ids = [(r["kind"], r["n"], r["scale"], r["shift"], r["seed"]) for r in rows]
    assert len(ids) == len(set(ids)) == N_ROWS
    assert (out / "results.csv").read_bytes() == (tmp_path / "full/results.csv").read_bytes()
    assert (out / "history.csv").read_bytes() == (tmp_path / "full/history.csv").read_bytes()
    assert done.summary == full.summary and (out / "toy.png").stat().st_size > 0
    assert len(json.loads((out / "metadata.json").read_text())["runs"]) == 2
    # resuming a finished sweep computes nothing; execution keys may change
    again = run_sweep(toy(chunk_size=7, memory_mb=64), out, exp=TOY, progress=False)
    assert again.metadata["runs"][-1]["rows_todo_at_start"] == 0


def test_derive_history_and_summary(tmp_path):
    res = run_sweep(toy(), tmp_path, exp=TOY, progress=False)
    header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
    assert header == [
        *("kind", "n", "scale", "shift", "seed"),
        *("value", "count", "shifted", "seed_total"),
    ]
    totals = {}
    for r in res.rows:
        totals[r["seed"]] = totals.get(r["seed"], 0) + r["count"]
    assert all(r["seed_total"] == totals[r["seed"]] for r in res.rows)
    hist = read_history(tmp_path, toy())
    assert len(hist) == 3 * N_ROWS and {h["step"] for h in hist} == {0, 1, 2}
    assert json.loads((tmp_path / "summary.json").read_text()) == res.summary
    assert res.summary["rows"] == N_ROWS and res.plots == [tmp_path / "toy.png"]


def test_run_context_reruns_rows_exactly_as_the_engine(tmp_path):
    res = run_sweep(toy(), tmp_path, exp=TOY, progress=False)
    ctx = RunContext(TOY, toy(), tmp_path)
    picked = [res.rows[5], res.rows[-1], res.rows[5]]  # two groups, a repeated row
    again = ctx.rerun(picked)
    for r, out in zip(picked, again, strict=True):
        for m in TOY.metrics:
            assert float(out[m]) == r[m], m
    p = ctx.params(res.rows[-1])
    assert p["width"] == res.rows[-1]["n"] / 2  # prepare's values included
    assert p["scale"].dtype == np.float32 and p["shift"].dtype == np.int32  # traced dtypes
    assert p["offset"] == 0.5 and p["kind"] == res.rows[-1]["kind"]
    # any function of the row's params and key, e.g. a trajectory for a plot
    (x,) = ctx.rerun([res.rows[0]], lambda p, k: jax.random.normal(k, (p["n"],)))
    assert x.shape == (res.rows[0]["n"],) and ((x > 0).sum() == res.rows[0]["count"])


def test_changed_config_into_existing_folder_is_an_error(tmp_path):
    run_sweep(toy(), tmp_path, exp=TOY, progress=False, max_chunks=1)
    before = (tmp_path / "results.csv").read_text()
    with pytest.raises(ConfigError, match=r"different config \(changed: scale\)"):
        run_sweep(toy(scale=[1.0, 3.0]), tmp_path, exp=TOY, progress=False)
    assert (tmp_path / "results.csv").read_text() == before


def test_a_folder_grows_its_seeds_and_equals_a_fresh_run(tmp_path):
    """``seeds`` may grow when a folder resumes: the new seeds' rows are added and the folder
    ends byte-identical to a fresh run with the larger count; fewer seeds is refused."""
    run_sweep(toy(seeds=2), tmp_path / "grown", exp=TOY, progress=False)
    grown = run_sweep(toy(seeds=3), tmp_path / "grown", exp=TOY, progress=False)
    fresh = run_sweep(toy(seeds=3), tmp_path / "fresh", exp=TOY, progress=False)
    for name in ("results.csv", "history.csv"):
        assert (tmp_path / "grown" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()
    assert grown.summary == fresh.summary
    assert grown.metadata["runs"][-1]["rows_todo_at_start"] == N_ROWS // 3
    with pytest.raises(ConfigError, match=r"different config \(changed: seeds\)"):
        run_sweep(toy(seeds=2), tmp_path / "grown", exp=TOY, progress=False)


def test_config_validation_names_the_key():
    cases = [
        ({"nn": [10]}, "unknown key 'nn'"),
        ({"n": ["a"]}, "'n' must be a list of an integer"),
        ({"n": [10.5]}, "'n' must be a list of an integer"),
        ({"kind": ["c"]}, "'kind' must be a list of one of 'a', 'b'"),
        ({"seeds": 0}, "'seeds' must be >= 1"),
        ({"n": [0, 4]}, "'n' must be >= 1"),
        ({"scale": [1.0, 1.0]}, "'scale' has repeated values"),
        ({"plot": {"dpi": "hi"}}, "'plot.dpi' must be an integer"),
        ({"plot": {"size": 3}}, "unknown key 'plot.size'"),
    ]
    for override, message in cases:
        with pytest.raises(ConfigError, match=message):
            toy(**override)
    cfg = toy(n=6, scale=2)  # a scalar for a grid key is a one-point grid; ints widen to float
    assert cfg.n == [6] and cfg.scale == [2.0] and isinstance(cfg.scale[0], float)


def test_experiment_definitions_are_checked():
    with pytest.raises(ValueError, match="'m' is not a grid key"):
        dataclasses.replace(TOY, static=("m",))
    with pytest.raises(ValueError, match="non-numeric grid key 'mode' must be static"):

        @dataclasses.dataclass
        class Free(ToyConfig):
            mode: list[str] = dataclasses.field(default_factory=lambda: ["x"])

        dataclasses.replace(TOY, config=Free)
    with pytest.raises(ValueError, match="both metrics and history"):
        dataclasses.replace(TOY, history=("value",))
    with pytest.raises(ValueError, match="metric 'shift' names a grid key"):
        dataclasses.replace(TOY, metrics=("value", "shift"))
    assert isinstance(TOY, Experiment) and TOY.grid_keys == ["kind", "n", "scale", "shift"]
    assert isinstance(toy(), ToyConfig)


def test_literal_keys_can_be_traced_as_indices(tmp_path):
    """A ``Literal`` string key left out of ``static`` reaches ``fn`` as the index of its value
    among the options: one compiled program for both kinds, the same bytes as one each."""
    import jax.numpy as jnp

    from tests.toy import toy_point

    def traced_kind(p, key):
        out = toy_point({**p, "kind": "a"}, key)
        x0 = jax.random.normal(key, (p["n"],))[0]
        sign = jnp.where(p["kind"] == 0, 1.0, -1.0)  # "a" is option 0, "b" option 1
        return {**out, "value": sign * p["scale"] * x0 + p["offset"]}

    traced = dataclasses.replace(TOY, fn=traced_kind, static=("n",))
    a = run_sweep(toy(), tmp_path / "static", exp=TOY, progress=False)
    b = run_sweep(toy(), tmp_path / "traced", exp=traced, progress=False)
    assert (tmp_path / "static" / "results.csv").read_bytes() == (
        tmp_path / "traced" / "results.csv"
    ).read_bytes()
    assert len(a.metadata["runs"][-1]["groups"]) == 4 and len(b.metadata["runs"][-1]["groups"]) == 2


def test_read_results_types_round_trip(tmp_path):
    res = run_sweep(toy(), tmp_path, exp=TOY, progress=False)
    rows = read_results(tmp_path / "results.csv", toy())
    assert rows == res.rows
    assert isinstance(rows[0]["n"], int) and isinstance(rows[0]["scale"], float)


def test_shared_draws_give_the_same_bytes_as_per_row_evaluation(tmp_path):
    """The toy with its draws computed once per PRNG stream (scale and kind excluded from the
    key: 4 rows a stream) equals, byte for byte, the same experiment evaluated row by row
    (share_draws = false) and the original per-row toy, at any chunk size."""
    from tests.toy import SHARED

    ref = run_sweep(toy(), tmp_path / "ref", exp=TOY, progress=False)
    want = (tmp_path / "ref" / "results.csv").read_bytes()
    for name, overrides in (
        ("rows", {"share_draws": False}),
        ("s1", {"chunk_size": 1}),
        ("s5", {"chunk_size": 5}),
        ("auto", {}),
    ):
        res = run_sweep(toy(**overrides), tmp_path / name, exp=SHARED, progress=False)
        assert (tmp_path / name / "results.csv").read_bytes() == want, name
        assert (tmp_path / name / "history.csv").read_bytes() == (
            tmp_path / "ref" / "history.csv"
        ).read_bytes()
        assert res.summary == ref.summary
    groups = res.metadata["runs"][0]["groups"]  # streams of 2 rows (scale × one kind per group)
    assert [g["rows_per_unit"] for g in groups] == [2, 2, 2, 2]


def test_stepped_rows_pool_equals_row_by_row(tmp_path):
    """A stepped experiment (rows decided after 1 to 16 blocks): pools of 1, 3 or 64 slots per
    PRNG stream that refill as rows are decided give results.csv byte-identical to every row
    run on its own to its decision (share_draws = false), at any chunk size."""
    from hopjax.sweep import Stepper
    from tests.toy import STEPPED

    ref = run_sweep(toy(share_draws=False), tmp_path / "ref", exp=STEPPED, progress=False)
    want = (tmp_path / "ref" / "results.csv").read_bytes()
    counts = {r["count"] for r in ref.rows}
    assert len(counts) > 3 and max(counts) > 3  # rows are decided at different blocks
    for slots, chunk in ((1, 5), (3, 1), (64, 0)):  # every pool size, every chunk size
        stepper = dataclasses.replace(STEPPED.stepper, slots=slots)
        exp = dataclasses.replace(STEPPED, fn=stepper)
        out = tmp_path / f"s{slots}c{chunk}"
        run_sweep(toy(chunk_size=chunk), out, exp=exp, progress=False)
        assert (out / "results.csv").read_bytes() == want, (slots, chunk)
    with pytest.raises(ValueError, match="row function or a Stepper"):
        dataclasses.replace(STEPPED, fn=None)
    assert isinstance(STEPPED.stepper, Stepper)


def test_deferred_rows_run_in_a_second_round_and_resume_alike(tmp_path):
    """defer holds scale-2 rows back until their scale-1 partners are finished; prune then
    skips those whose partner had value > 0. Groups run in two rounds (one, where every held
    row was pruned), the pruned rows are exactly the rule's, and a run interrupted after every
    single chunk and resumed each time writes the same results.csv."""
    from tests.toy import ROUNDS

    res = run_sweep(toy(), tmp_path / "a", exp=ROUNDS, progress=False)
    by = {(r["kind"], r["n"], r["shift"], r["seed"], r["scale"]): r for r in res.rows}
    n_pruned = 0
    for (kind, n, shift, seed, scale), r in by.items():
        if scale == 2.0:
            want = "pruned" if by[(kind, n, shift, seed, 1.0)]["value"] > 0 else "done"
            assert r["status"] == want
            n_pruned += want == "pruned"
    assert 0 < n_pruned < N_ROWS / 2
    rounds = [g["rounds"] for g in res.metadata["runs"][0]["groups"]]
    assert set(rounds) <= {1, 2} and 2 in rounds  # 1: every held row was pruned
    cfg = toy(chunk_size=2)
    ref = run_sweep(cfg, tmp_path / "b", exp=ROUNDS, progress=False)
    for _ in range(40):
        r = run_sweep(cfg, tmp_path / "c", exp=ROUNDS, progress=False, max_chunks=1)
        if r.metadata["complete"]:
            break
    assert (tmp_path / "c" / "results.csv").read_bytes() == (
        tmp_path / "b" / "results.csv"
    ).read_bytes()
    assert [x["status"] for x in ref.rows] == [x["status"] for x in res.rows]


def test_pruned_rows_are_written_with_a_status_and_never_rerun(tmp_path):
    from tests.toy import PRUNED

    res = run_sweep(toy(), tmp_path, exp=PRUNED, progress=False)
    status = [r["status"] for r in res.rows]
    assert status.count("pruned") > 0 and status.count("done") > 0
    assert len(res.rows) == N_ROWS
    for r in res.rows:
        if r["status"] == "pruned":
            assert np.isnan(r["value"]) and np.isnan(r["count"])
    header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:7] == ["kind", "n", "scale", "shift", "seed", "status", "value"]
    meta = res.metadata["runs"][0]["groups"]
    assert sum(g.get("pruned", 0) for g in meta) == status.count("pruned")
    before = (tmp_path / "results.csv").read_bytes()
    again = run_sweep(toy(), tmp_path, exp=PRUNED, progress=False)
    assert again.metadata["runs"][-1]["rows_todo_at_start"] == 0
    assert (tmp_path / "results.csv").read_bytes() == before


def test_load_run_reads_a_folder_back(tmp_path):
    """load_run: results.csv as column arrays (numbers as floats, strings as str), the
    summary, config and metadata; where() filters; a folder without results is named."""
    import numpy as np
    import pytest

    from hopjax.sweep import load_run
    from tests.toy import EXPERIMENT, toy

    run_sweep(toy(), tmp_path / "run", exp=EXPERIMENT, progress=False)
    run = load_run(tmp_path / "run")
    assert len(run) == len(run["seed"]) > 0
    assert run["kind"].dtype.kind == "U" and run["value"].dtype == np.float64
    sub = run.where(kind="a", n=4.0)
    assert len(sub) > 0 and set(sub["kind"]) == {"a"} and set(sub["n"]) == {4.0}
    assert run.summary["rows"] == len(run) and run.config["experiment"] == "toy"
    assert run.metadata["complete"]
    with pytest.raises(KeyError, match="no column"):
        run.where(nope=1)
    with pytest.raises(FileNotFoundError, match=r"no results\.csv"):
        load_run(tmp_path)


@pytest.mark.slow
def test_a_rerun_loads_the_sweeps_programs_from_the_disk_cache(tmp_path):
    """The engine traces its programs without hopjax's run-time checks (host callbacks, which
    JAX never caches), so a second process finds them in the persistent cache: the cache folder
    fills, the second run compiles in a fraction of the first's time, same bytes."""
    import json as _json

    env = {**os.environ, "HOPJAX_CACHE_DIR": str(tmp_path / "xla")}
    args = ["--set", "N=[64, 128]", "--set", "seeds=2", "--set", "plot.dpi=20", "-q"]
    compile_s = []
    for name in ("a", "b"):
        cmd = [sys.executable, "-m", "hopjax", "run", str(ROOT / "configs" / "quickstart.toml")]
        subprocess.run([*cmd, "--out", str(tmp_path / name), *args], check=True, env=env,
                       capture_output=True)  # fmt: skip
        meta = _json.loads((tmp_path / name / "metadata.json").read_text())
        compile_s.append(meta["compile_seconds"])
    assert any((tmp_path / "xla").iterdir())
    assert compile_s[1] < 0.5 * compile_s[0], compile_s
    assert (tmp_path / "a" / "results.csv").read_bytes() == (
        tmp_path / "b" / "results.csv"
    ).read_bytes()


def test_traced_checks_still_fire_outside_the_engine():
    """Only the engine's own tracing turns them off: a jitted library call still raises."""
    import equinox as eqx
    import jax.numpy as jnp

    from hopjax._checks import check_bipolar, traced_checks

    f = jax.jit(lambda x: check_bipolar(x, "x"))
    with pytest.raises((eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError), match="bipolar"):
        f(jnp.array([1.0, 0.5])).block_until_ready()
    with traced_checks(False):
        g = jax.jit(lambda x: check_bipolar(x, "x") * 2)
        assert float(g(jnp.array([0.5]))[0]) == 1.0


def test_params_are_a_frozen_view_and_bounds_are_declared(tmp_path):
    """A row's params read as ``p.key`` or ``p["key"]``; an unknown key is an error naming the
    known ones — at trace time, so a typo in an experiment never falls back to a default; a
    bound declared with ``param`` is checked when the config is read, naming the key."""
    from hopjax.sweep import ConfigError, Params
    from tests.toy import EXPERIMENT

    p = Params({"alpha": 0.1, "N": 4})
    assert p.alpha == p["alpha"] == 0.1 and {**p} == {"alpha": 0.1, "N": 4}
    with pytest.raises(AttributeError, match="no param 'alpah'; the params are: N, alpha"):
        _ = p.alpah
    with pytest.raises(KeyError, match="no param 'x'"):
        _ = p["x"]
    with pytest.raises(AttributeError, match="read-only"):
        p.alpha = 0.2
    assert p.replace(alpha=0.2).alpha == 0.2 and p.alpha == 0.1
    with pytest.raises(ConfigError, match=r"'n' must be >= 1; got \[0, 4\]"):
        toy(n=[0, 4])
    typo = dataclasses.replace(EXPERIMENT, fn=lambda p, key: {"value": p.scael})
    with pytest.raises(AttributeError, match="no param 'scael'"):
        run_sweep(toy(n=[4], kind=["a"]), tmp_path, exp=typo, progress=False)


def test_metadata_totals_every_invocation(tmp_path):
    """A rerun of a finished folder (it only redraws the summary) adds an invocation to
    ``runs``; the top-level timings are the totals over them, not the last rerun's."""
    import json

    from hopjax.sweep import load_experiment_config, run_sweep

    cfg = load_experiment_config(
        {"experiment": "hopfield_capacity", "N": [32], "alpha": [0.1], "seeds": 1, "cues": 2}
    )[1]
    run_sweep(cfg, tmp_path, progress=False)
    run_sweep(cfg, tmp_path, progress=False)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert len(meta["runs"]) == 2 and meta["runs"][1]["rows_todo_at_start"] == 0
    for k in ("wall_seconds", "compile_seconds", "run_seconds"):
        assert meta[k] == pytest.approx(sum(r[k] for r in meta["runs"]))
    assert meta["wall_seconds"] > meta["runs"][1]["wall_seconds"]


def test_the_program_cache_sees_an_experiment_changed_in_process(tmp_path, monkeypatch):
    """The stepped toy with its Stepper replaced in-process (other ``slots``): same source
    files and config, another program — the program cache keys the experiment object too, so
    each run gets its own program (loaded from disk only by an identical experiment) and the
    results match the row-by-row reference."""
    import jax

    from tests.toy import STEPPED

    monkeypatch.setenv("HOPJAX_PROGRAM_CACHE", "1")
    previous = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "cache"))
    try:
        ref = run_sweep(toy(share_draws=False), tmp_path / "ref", exp=STEPPED, progress=False)
        want = (tmp_path / "ref" / "results.csv").read_bytes()
        seen = []
        for i, slots in enumerate((1, 3, 1)):
            exp = dataclasses.replace(STEPPED, fn=dataclasses.replace(STEPPED.stepper, slots=slots))
            res = run_sweep(toy(chunk_size=5), tmp_path / f"r{i}", exp=exp, progress=False)
            assert (tmp_path / f"r{i}" / "results.csv").read_bytes() == want, slots
            seen.append({s for g in res.metadata["runs"][0]["groups"] for s in g["programs"]})
        assert "disk" not in seen[1] and "disk" in seen[2], seen
        assert ref.rows
    finally:
        jax.config.update("jax_compilation_cache_dir", previous)


def test_programs_calling_library_functions_are_not_stored(tmp_path):
    """A program with a LAPACK custom call (QR here, as hebbian_rules' orthogonalisation) is
    not serialised: on CPU the reloaded copy crashed the process (segfault); a pure-XLA
    program is stored and runs the same after reloading."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from hopjax.sweep.programs import ProgramCache

    x = jnp.arange(12.0).reshape(4, 3)
    with_lapack = jax.jit(lambda a: jnp.linalg.qr(a)[0]).lower(x).compile()
    pure = jax.jit(lambda a: jnp.sin(a) @ a.T).lower(x).compile()
    ProgramCache._store(tmp_path / "lapack.pkl", with_lapack, 1.0)
    ProgramCache._store(tmp_path / "pure.pkl", pure, 2.5)
    assert not (tmp_path / "lapack.pkl").exists()
    back, seconds = ProgramCache._load(tmp_path / "pure.pkl")
    assert np.array_equal(back(x), pure(x)) and seconds == 2.5  # its first compile's seconds


def test_shape_policy_pads_only_while_padding_costs_less_than_a_compile():
    """:class:`~hopjax.sweep.program.ShapePolicy`: the first round runs its own shape; while
    the sweep is compile-bound a later round runs in a larger program of its group, or a new
    program is compiled as large as the sweep's other shapes — only where ``(W − w) · r <
    t_compile`` (``W``, ``w``: the padded and the round's own work, ``r``: run seconds per unit
    of work so far); disabled, every round its own."""
    from types import SimpleNamespace

    from hopjax.sweep.program import GroupProgram, ShapePolicy

    def prog(size, m, cap=64):
        exp = SimpleNamespace(stepper=SimpleNamespace(slots=8))
        p = SimpleNamespace(shape=(size, m), cap=cap, streams=True, exp=exp)
        p.work_of = lambda shape: GroupProgram.work_of(p, shape)
        return p

    assert prog(2, 20).work_of((2, 20)) == 16  # a pool evaluates at most its 8 slots per unit
    pol = ShapePolicy(True)
    assert pol.choose("a", prog(4, 2)) == (4, 2)  # nothing measured yet
    pol.record_compile(1.0)
    pol.record_run(0.05, 8)  # r = 0.05 / 8
    assert pol.choose("a", prog(4, 4)) == (4, 4)  # nothing covers it: compiled as needed
    assert pol.choose("a", prog(2, 1)) == (4, 2)  # (8 − 2) r < 1
    assert pol.choose("b", prog(1, 1)) == (4, 4)  # (16 − 1) r < 1
    assert pol.choose("a", prog(4, 2, cap=2)) == (4, 2)  # a shape seen: itself
    pol.record_run(20.0, 8)  # run-bound now: r = 1.25 s per unit of work
    assert pol.choose("a", prog(3, 2)) == (3, 2)
    assert pol.choose("c", prog(1, 1, cap=1)) == (1, 1)  # never beyond the chunk cap
    # a small round after large chunks: priced by its extra work, not by the mean chunk
    # (15 × 0.525 s would exceed the compile; 15 × 0.0146 s does not)
    mixed = ShapePolicy(True)
    mixed.choose("a", prog(4, 4))
    mixed.record_compile(1.0)
    mixed.record_run(0.05, 8)
    mixed.record_run(1.0, 64)
    assert mixed.choose("a", prog(1, 1)) == (4, 4)
    off = ShapePolicy(False)
    off.record_compile(5.0)
    off.record_run(0.01)
    off.choose("a", prog(4, 4))
    assert off.choose("a", prog(2, 2)) == (2, 2)


def test_padded_chunks_change_no_result(tmp_path):
    """Rounds run in larger programs (more PRNG streams and rows per stream than they hold,
    the pool's slots included) write exactly the rows of their own shapes: padding is
    dropped, and a row's result does not depend on the other rows of its chunk (CPU)."""
    import dataclasses

    import hopjax.sweep.program as program
    from tests.toy import STEPPED, two_rounds

    exp = dataclasses.replace(STEPPED, schedule=two_rounds)
    ref = run_sweep(toy(), tmp_path / "ref", exp=exp, progress=False)
    want = (tmp_path / "ref" / "results.csv").read_bytes()
    original = program.ShapePolicy._choose
    try:
        program.ShapePolicy._choose = lambda self, need, known, prog: (need[0] + 3, need[1] + 5)
        res = run_sweep(toy(), tmp_path / "pad", exp=exp, progress=False)
    finally:
        program.ShapePolicy._choose = original
    assert (tmp_path / "pad" / "results.csv").read_bytes() == want
    groups = res.metadata["runs"][0]["groups"]
    assert all(g.get("padded") for g in groups if g.get("programs")) and ref.rows
