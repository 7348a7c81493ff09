"""The emlearn-gen command line: convert, footprint, demo; exit statuses,
messages and help."""

from __future__ import annotations

import copy
import importlib
import operator
import os
import pickle
import re
import resource
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Optional

import joblib
import pytest
from firmware_support import readme_block, require_tool, run_shell, saved_model, shell_env
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.kernel_approximation import Nystroem
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen import cli


@pytest.fixture(scope="module")
def forest(load_data):
    X, y = load_data("iris")
    return RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture
def saved(forest, tmp_path, monkeypatch):
    """The forest saved as joblib and pickle, in a temporary working folder."""
    monkeypatch.chdir(tmp_path)
    joblib.dump(forest, tmp_path / "iris_forest.joblib")
    with (tmp_path / "iris_forest.pkl").open("wb") as handle:
        pickle.dump(forest, handle)
    return tmp_path


def _run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_convert_joblib_writes_name_hpp_and_warns_that_loading_runs_code(saved, forest, capsys):
    status, out, err = _run(capsys, "convert", "iris_forest.joblib")
    assert status == 0
    header = saved / "iris_forest.hpp"
    assert header.read_text() == emlearn_gen.convert(forest, name="iris_forest").to_source()
    assert "wrote iris_forest.hpp" in out
    assert "runs code" in err and "iris_forest.joblib" in err


def test_convert_options(saved, forest, capsys):
    status, _, err = _run(
        capsys, "convert", "iris_forest.pkl", "--name", "gesture", "--standalone",
        "--dtype", "float32", "-o", "gesture_model.hpp",
    )
    assert status == 0, err
    want = emlearn_gen.convert(forest, name="gesture", dtype="float32").to_source(standalone=True)
    assert (saved / "gesture_model.hpp").read_text() == want
    assert "runs code" in err


def test_convert_to_standard_output(saved, forest, capsys):
    status, out, err = _run(capsys, "convert", "iris_forest.joblib", "--dtype", "float64", "-o", "-")
    assert status == 0
    assert out == emlearn_gen.convert(forest, name="iris_forest", dtype="float64").to_source()
    assert not (saved / "iris_forest.hpp").exists()


def test_convert_skops_is_loaded_without_running_code(forest, tmp_path, capsys, load_data):
    sio = pytest.importorskip("skops.io", reason="skops is optional: pip install skops")
    sio.dump(forest, tmp_path / "forest.skops")
    status, _, err = _run(capsys, "convert", tmp_path / "forest.skops", "-o", tmp_path / "f.hpp")
    assert status == 0, err
    assert "runs code" not in err
    assert (tmp_path / "f.hpp").read_text() == emlearn_gen.convert(forest, name="forest").to_source()

    # Types that skops does not trust are refused unless named with --trust.
    sio.dump(FunctionTransformer(operator.neg), tmp_path / "func.skops")
    status, _, err = _run(capsys, "convert", tmp_path / "func.skops")
    assert status == 1
    assert "_operator.neg" in err and "--trust" in err
    status, _, err = _run(capsys, "convert", tmp_path / "func.skops", "--trust", "_operator.neg")
    assert status == 1
    assert "cannot convert FunctionTransformer" in err and "fit it on data" in err


def test_convert_failures_exit_1_with_one_line_messages(saved, load_data, capsys):
    X, y = load_data("iris")
    joblib.dump(DecisionTreeClassifier(), saved / "unfitted.joblib")
    joblib.dump(Nystroem(), saved / "unsupported.joblib")
    (saved / "garbage.joblib").write_bytes(b"not a pickle")
    (saved / "class.joblib").write_bytes((saved / "iris_forest.joblib").read_bytes())
    cases = [
        (["missing.joblib"], "missing.joblib: no such file"),
        (["unfitted.joblib"], "not fitted"),
        (["unsupported.joblib"], "Supported estimators: "),
        (["garbage.joblib"], "cannot load as joblib"),
        (["class.joblib"], "the name comes from the file name; choose one with --name"),
        (["iris_forest.joblib", "-o", "no/such/folder/x.hpp"], "cannot write no/such/folder/x.hpp"),
    ]
    for args, message in cases:
        status, out, err = _run(capsys, "convert", *args)
        assert status == 1, (args, err)
        errors = [line for line in err.splitlines() if line.startswith("emlearn-gen: error: ")]
        assert len(errors) == 1 and message in errors[0], (args, err)
        assert "Traceback" not in err and out == ""


def test_usage_errors_exit_2(saved, capsys):
    X, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1000).fit(X, y), saved / "linear.joblib")  # float32 only
    for argv in (
        [],
        ["convert"],
        ["convert", "iris_forest.joblib", "--dtype", "float16"],
        ["convert", "iris_forest.joblib", "--option", "novalue"],
        ["convert", "iris_forest.joblib", "--option", "dtype=float16"],
        ["convert", "linear.joblib", "--option", "dtype=float64"],
        ["footprint", "iris_forest.joblib", "--target", "z80"],
        ["frobnicate"],
    ):
        with pytest.raises(SystemExit) as info:
            status = cli.main(argv)
            raise SystemExit(status)
        assert info.value.code == 2, argv
        assert "emlearn-gen" in capsys.readouterr().err


def test_help_documents_every_command_and_option(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    top = capsys.readouterr().out
    for word in ("convert", "footprint", "demo", "micropython-sdk", "Exit status"):
        assert word in top
    with pytest.raises(SystemExit):
        cli.main(["convert", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for word in ("--name", "--standalone", "--dtype", "float32", "float64", "-o FILE", "'-' for standard output",
                 "RUNS CODE", ".skops", "--trust", "--option", "RandomForestClassifier"):
        assert word in text, word
    with pytest.raises(SystemExit):
        cli.main(["footprint", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for word in ("--target", "cortex-m0", "cortex-m4f", "avr", "RUNS CODE", "flash", "RAM", "stack"):
        assert word in text, word
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == f"emlearn-gen {emlearn_gen.__version__}"


def test_entry_points_run_the_same_command(saved, forest):
    """`python -m emlearn_gen` and the installed `emlearn-gen` script."""
    proc = subprocess.run(
        [sys.executable, "-m", "emlearn_gen", "convert", "iris_forest.joblib", "-o", "-"],
        cwd=saved, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == emlearn_gen.convert(forest, name="iris_forest").to_source()
    script = Path(sys.executable).parent / "emlearn-gen"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "emlearn_gen"]
    proc = subprocess.run([*command, "convert", "absent.skops"], cwd=saved, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr == "emlearn-gen: error: absent.skops: no such file\n"


def test_footprint_prints_what_the_device_harness_measures(tmp_path, load_data, capsys):
    testing = pytest.importorskip("emlearn_gen.testing")
    require_tool("avr-g++", "gcc-avr avr-libc")
    require_tool("simavr", "simavr")
    X, y = load_data("diabetes")
    model = RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    joblib.dump(model, tmp_path / "sugar.joblib")
    status, out, err = _run(capsys, "footprint", tmp_path / "sugar.joblib", "--target", "avr")
    assert status == 0, err
    fp = testing.footprint(emlearn_gen.convert(model, name="sugar"), "avr")
    row = [line.split() for line in out.splitlines() if line.startswith("avr")]
    assert row == [["avr", str(fp.flash), str(fp.ram), str(fp.stack)]]
    assert re.search(r"target\s+flash\s+RAM\s+stack", out)


def test_footprint_without_device_support_exits_2(saved, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_footprint_function", lambda: None)
    status, _, err = _run(capsys, "footprint", "iris_forest.joblib")
    assert status == 2
    assert "footprint is not available" in err


def test_demo_still_runs(tmp_path, capsys):
    status, out, _ = _run(capsys, "demo", "--out-dir", tmp_path / "demo", "--no-compile")
    assert status == 0
    assert (tmp_path / "demo" / "digits_forest.hpp").is_file()
    assert "OK: the header agrees with scikit-learn" in out


def test_readme_command_line_steps(forest, tmp_path):
    """Every line of the README's command-line block, footprint included."""
    for exe, package in (("avr-g++", "gcc-avr avr-libc"), ("simavr", "simavr"),
                         ("arm-none-eabi-g++", "gcc-arm-none-eabi"), ("qemu-system-arm", "qemu-system-arm")):
        require_tool(exe, package)
    model = saved_model(forest, tmp_path, "gesture")
    out = run_shell(readme_block("cli"), tmp_path, shell_env(), model)
    cm = emlearn_gen.convert(forest, name="gesture")
    assert (tmp_path / "gesture.hpp").read_text() == cm.to_source()
    assert (tmp_path / "wrist.hpp").read_text() == emlearn_gen.convert(forest, name="wrist", dtype="float32").to_source()
    assert (tmp_path / "firmware_gesture.hpp").read_text() == cm.to_source(standalone=True)
    assert re.search(r"^cortex-m0\s+\d+\s+\d+\s+\d+$", out, re.M), out
    assert re.search(r"^avr\s+\d+\s+\d+\s+\d+$", out, re.M), out


def test_footprint_of_a_model_too_large_for_the_device_exits_1(tmp_path, load_data, capsys):
    pytest.importorskip("emlearn_gen.testing")
    require_tool("avr-g++", "gcc-avr avr-libc")
    X, y = load_data("digits")
    # ~280 KB of tables: over the ATmega2560's 256 KiB of flash.
    joblib.dump(RandomForestClassifier(n_estimators=500, random_state=0).fit(X, y), tmp_path / "big.joblib")
    status, out, _ = _run(capsys, "footprint", tmp_path / "big.joblib", "--target", "avr")
    assert status == 1
    assert re.search(r"^avr\s+does not fit avr .*bytes over its 256 KiB of flash", out, re.M), out


# --------------------------------------------------------------------------
# demo


def _error_lines(err: str) -> List[str]:
    return [line for line in err.splitlines() if line.startswith("emlearn-gen: error: ")]


def test_demo_from_an_empty_folder_with_default_arguments(tmp_path):
    """The README's Quick start: `emlearn-gen demo`, compiling included, in a
    fresh folder (its default --out-dir is relative to it)."""
    require_tool("g++", "g++")
    proc = subprocess.run(
        [sys.executable, "-m", "emlearn_gen", "demo"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "OK: the header agrees with scikit-learn" in proc.stdout.splitlines()
    assert "labels identical, probabilities bit-identical" in proc.stdout
    assert (tmp_path / "emlearn_gen_demo" / "digits_forest.hpp").is_file()


def test_demo_build_failure_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    """A compiler that fails (here a stand-in g++ on the PATH): one line on
    standard error, exit 1, the compiler's output kept in build.log."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_gxx = fake_bin / "g++"
    fake_gxx.write_text("#!/bin/sh\necho 'main.cpp:1:1: error: no space left for the demo' >&2\nexit 1\n")
    fake_gxx.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    status, _, err = _run(capsys, "demo", "--out-dir", "out")
    assert status == 1
    errors = _error_lines(err)
    assert len(errors) == 1 and "compiling with g++" in errors[0], err
    assert "out/build/build.log" in errors[0]
    assert "Traceback" not in err
    assert "no space left for the demo" in (tmp_path / "out" / "build" / "build.log").read_text()


def test_demo_out_dir_naming_a_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "taken").write_text("mine\n")
    status, out, err = _run(capsys, "demo", "--out-dir", tmp_path / "taken", "--no-compile")
    assert status == 1
    errors = _error_lines(err)
    assert len(errors) == 1 and "is a file, not a folder" in errors[0] and "--out-dir" in errors[0], err
    assert out == ""
    assert (tmp_path / "taken").read_text() == "mine\n"


# --------------------------------------------------------------------------
# Writing the header


def _limited_file_size(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_failed_write_leaves_the_old_header_whole(saved, forest):
    """With the file-size limit hit, the header is not cut short: the old one
    stays as it was and no temporary file is left behind."""
    old = emlearn_gen.convert(forest, name="iris_forest", dtype="float32").to_source()
    (saved / "iris_forest.hpp").write_text(old)
    new = emlearn_gen.convert(forest, name="iris_forest").to_source()
    limit = 2048
    assert len(new.encode()) > limit
    proc = subprocess.run(
        [sys.executable, "-m", "emlearn_gen", "convert", "iris_forest.joblib", "-o", "iris_forest.hpp"],
        cwd=saved, capture_output=True, text=True, check=False, preexec_fn=_limited_file_size(limit),
    )
    assert proc.returncode == 1, proc.stderr
    errors = _error_lines(proc.stderr)
    assert len(errors) == 1 and "cannot write iris_forest.hpp" in errors[0], proc.stderr
    assert "unchanged" in errors[0]
    assert (saved / "iris_forest.hpp").read_text() == old
    assert sorted(p.name for p in saved.iterdir()) == ["iris_forest.hpp", "iris_forest.joblib", "iris_forest.pkl"]
    # Without the limit the same command replaces it, keeping its permissions.
    (saved / "iris_forest.hpp").chmod(0o640)
    proc = subprocess.run(
        [sys.executable, "-m", "emlearn_gen", "convert", "iris_forest.joblib", "-o", "iris_forest.hpp"],
        cwd=saved, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (saved / "iris_forest.hpp").read_text() == new
    assert stat.S_IMODE((saved / "iris_forest.hpp").stat().st_mode) == 0o640


def test_output_that_is_the_model_file_is_refused(saved, capsys):
    """-o naming the model, under any spelling or through a link, is refused
    before the model is loaded; the model file is left as it was."""
    model = saved / "iris_forest.joblib"
    before = model.read_bytes()
    (saved / "sub").mkdir()
    (saved / "link.hpp").symlink_to(model)
    for output in ("iris_forest.joblib", "sub/../iris_forest.joblib", str(model), "link.hpp"):
        status, out, err = _run(capsys, "convert", "iris_forest.joblib", "-o", output)
        assert status == 1, (output, err)
        errors = _error_lines(err)
        assert len(errors) == 1 and "is the model file" in errors[0] and "-o" in errors[0], (output, err)
        assert "runs code" not in err, "refused before loading"
        assert out == ""
        assert model.read_bytes() == before
    # The default output NAME.hpp can be the model too.
    (saved / "gesture.hpp").write_bytes(before)
    status, _, err = _run(capsys, "convert", "gesture.hpp", "--format", "joblib")
    assert status == 1 and "gesture.hpp is the model file" in err
    assert (saved / "gesture.hpp").read_bytes() == before


# --------------------------------------------------------------------------
# Conversion failures and usage errors


def _malformed_models(forest: RandomForestClassifier) -> dict:
    """Fitted-looking estimators whose fitted attributes are broken."""
    no_tree = copy.deepcopy(forest.estimators_[0])
    del no_tree.tree_
    not_trees = copy.deepcopy(forest)
    not_trees.estimators_ = [None, 3]
    return {"no_tree": no_tree, "not_trees": not_trees}


def test_malformed_models_are_one_line_errors(saved, forest, capsys):
    for name, model in _malformed_models(forest).items():
        joblib.dump(model, saved / f"{name}.joblib")
        status, out, err = _run(capsys, "convert", f"{name}.joblib")
        assert status == 1, (name, err)
        errors = _error_lines(err)
        assert len(errors) == 1 and f"cannot convert {type(model).__name__} from {name}.joblib" in errors[0], err
        assert "Traceback" not in err and out == ""


@pytest.mark.parametrize(
    "error",
    [OverflowError("Python int too large to convert to C long"), RuntimeError("table\ncheck failed"),
     KeyError("threshold"), ZeroDivisionError()],
)
def test_any_conversion_error_is_one_line(saved, capsys, monkeypatch, error):
    """Whatever a converter raises on a model it does not expect, the command
    line reports it in one line and exits 1."""
    module = importlib.import_module("emlearn_gen.convert")

    def failing_convert(estimator: Any, name: str = "model", *, dtype: Optional[str] = None) -> Any:
        raise error

    monkeypatch.setattr(module, "convert", failing_convert)
    status, out, err = _run(capsys, "convert", "iris_forest.joblib")
    assert status == 1
    errors = _error_lines(err)
    assert len(errors) == 1, err
    assert errors[0].startswith("emlearn-gen: error: cannot convert RandomForestClassifier from iris_forest.joblib: ")
    assert type(error).__name__ in errors[0]
    assert "Traceback" not in err and out == ""


def test_bad_name_and_unknown_option_are_usage_errors(saved, capsys):
    cases = [
        (["--name", "2fast"], ["--name '2fast' is not a C++ identifier", "letters, digits and underscores"]),
        (["--name", "class"], ["--name 'class' is a C++ keyword", "choose another"]),
        (["--name", ""], ["--name '' is not a C++ identifier"]),
        # Checked before the model is loaded: every family's options (the mlp family's calibration).
        (["--option", "colour=1"], ["no option 'colour'", "its options are: calibration, dtype"]),
        (["--option", "name=x"], ["--name"]),
        (["--option", "dtype=float32", "--dtype", "float64"], ["disagree"]),
    ]
    for args, messages in cases:
        status, out, err = _run(capsys, "convert", "iris_forest.joblib", *args)
        assert status == 2, (args, err)
        errors = _error_lines(err)
        assert len(errors) == 1, (args, err)
        for message in messages:
            assert message in errors[0], (args, err)
        assert "keyword argument" not in err and "Traceback" not in err and out == ""
        assert "runs code" not in err, "usage is checked before the model is loaded"


def test_options_are_those_the_families_declare(saved, forest, capsys, monkeypatch):
    """A new option of a model family is an --option, listed, and reaches the
    family, which validates it."""
    from emlearn_gen.core.family import Option
    from emlearn_gen.families import REGISTRY

    trees = REGISTRY.get("trees")
    monkeypatch.setattr(type(trees), "options", trees.options + (Option("max_leaves", "test option"),))
    seen = {}
    real_lower = type(trees).lower

    def lower(self, ir, options):
        seen.update(options)
        return real_lower(self, ir, options)

    monkeypatch.setattr(type(trees), "lower", lower)
    status, _, err = _run(capsys, "convert", "iris_forest.joblib", "--option", "colour=1")
    assert status == 2 and "its options are: calibration, dtype, max_leaves" in err
    status, _, err = _run(capsys, "convert", "iris_forest.joblib", "--option", "max_leaves=12", "-o", "-")
    assert status == 0, err
    assert seen["max_leaves"] == 12


def test_a_directory_given_as_the_model_says_so(saved, capsys):
    (saved / "models.skops").mkdir()
    status, out, err = _run(capsys, "convert", "models.skops")
    assert status == 1
    errors = _error_lines(err)
    assert len(errors) == 1 and "models.skops is a directory" in errors[0], err
    assert "no such file" not in err and out == ""


# --------------------------------------------------------------------------
# The name


def test_a_name_from_the_file_name_is_announced_on_standard_error(forest, tmp_path, monkeypatch, capsys):
    """left/gesture.joblib and right/gesture.joblib both become namespace
    gesture: the command says so (on standard error, so `-o -` stays clean)."""
    monkeypatch.chdir(tmp_path)
    for side in ("left", "right"):
        (tmp_path / side).mkdir()
        joblib.dump(forest, tmp_path / side / "gesture.joblib")
        status, out, err = _run(capsys, "convert", f"{side}/gesture.joblib", "-o", "-")
        assert status == 0, err
        assert out == emlearn_gen.convert(forest, name="gesture").to_source()
        assert "emlearn-gen: namespace 'gesture' (from the file name; choose another with --name)" in err.splitlines()
    status, out, err = _run(capsys, "convert", "right/gesture.joblib", "--name", "right_gesture", "-o", "-")
    assert status == 0
    assert out == emlearn_gen.convert(forest, name="right_gesture").to_source()
    assert "namespace" not in err
