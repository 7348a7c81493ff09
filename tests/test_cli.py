"""The emlearn-gen command line: convert, footprint, demo; exit statuses,
messages and help."""

from __future__ import annotations

import operator
import pickle
import re
import subprocess
import sys
from pathlib import Path

import joblib
import pytest
from firmware_support import readme_block, require_tool, run_shell, saved_model, shell_env
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
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
    assert "cannot convert FunctionTransformer" in err and "RandomForestClassifier" in err


def test_convert_failures_exit_1_with_one_line_messages(saved, load_data, capsys):
    X, y = load_data("iris")
    joblib.dump(DecisionTreeClassifier(), saved / "unfitted.joblib")
    joblib.dump(FunctionTransformer(), saved / "unsupported.joblib")
    (saved / "garbage.joblib").write_bytes(b"not a pickle")
    (saved / "class.joblib").write_bytes((saved / "iris_forest.joblib").read_bytes())
    cases = [
        (["missing.joblib"], "missing.joblib: no such file"),
        (["unfitted.joblib"], "not fitted"),
        (["unsupported.joblib"], "Supported estimators: "),
        (["garbage.joblib"], "cannot load as joblib"),
        (["iris_forest.joblib", "--name", "class"], "C++ keyword"),
        (["class.joblib"], "the name comes from the file name; choose one with --name"),
        (["iris_forest.joblib", "--name", "2fast"], "not a C++ identifier"),
        (["iris_forest.joblib", "-o", "no/such/folder/x.hpp"], "cannot write no/such/folder/x.hpp"),
        (["iris_forest.joblib", "--option", "colour=1"], "colour"),
    ]
    for args, message in cases:
        status, out, err = _run(capsys, "convert", *args)
        assert status == 1, (args, err)
        errors = [line for line in err.splitlines() if line.startswith("emlearn-gen: error: ")]
        assert len(errors) == 1 and message in errors[0], (args, err)
        assert "Traceback" not in err and out == ""


def test_usage_errors_exit_2(saved, capsys):
    for argv in (
        [],
        ["convert"],
        ["convert", "iris_forest.joblib", "--dtype", "float16"],
        ["convert", "iris_forest.joblib", "--option", "novalue"],
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
    for word in ("convert", "footprint", "demo", "Exit status"):
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
    joblib.dump(RandomForestClassifier(n_estimators=60, random_state=0).fit(X, y), tmp_path / "big.joblib")
    status, out, _ = _run(capsys, "footprint", tmp_path / "big.joblib", "--target", "avr")
    assert status == 1
    assert re.search(r"^avr\s+does not fit avr", out, re.M), out
