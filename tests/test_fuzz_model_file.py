"""The model-file loader under libFuzzer, ASan and UBSan (tests/fuzz/), and
every single-bit flip, truncation and extreme header word of one file of
each family under ASan and UBSan (tests/fuzz/mutate_model_files.cpp).

The corpus is written here from the catalog: model files of every family,
float32 and float64 tables, int8 and int16 storage. The fuzzer mutates them
for EMLEARN_GEN_FUZZ_SECONDS (60 by default; set it higher to fuzz longer)
and fails on any crash, sanitizer report, leak or input that runs longer
than a few seconds; its message holds the input that did it, in hex, and the
seed that replays the run (fix the loader, then keep the input, or the kind
of damage it shows, as a regression test in tests/cpp/test_model_file.cpp or
tests/test_model_files.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List

import pytest

import emlearn_gen
from emlearn_gen.testing import catalog
from firmware_support import REPO, missing, require_tool

FUZZ_DIR = REPO / "tests" / "fuzz"

# Files the corpus starts from: one model per family and the variants whose
# loaders differ (test_model_files.py's program examples).
SEEDS = [
    "DecisionTreeClassifier", "RandomForestClassifier-votes", "HistGradientBoostingClassifier-categorical",
    "IsolationForest", "AdaBoostRegressor", "LogisticRegression-multinomial", "SVC-proba-break_ties-float64",
    "OneClassSVM-rbf", "GaussianNB-iris", "CategoricalNB", "MLPClassifier-multilabel-relu-float64",
    "MLPClassifier-binary-int8", "KNeighborsClassifier-int16", "NearestCentroid", "LocalOutlierFactor-int16",
    "RadiusNeighborsRegressor", "GaussianMixture-full", "EllipticEnvelope", "KMeans", "StandardScaler", "PCA",
]


def _seconds() -> int:
    value = os.environ.get("EMLEARN_GEN_FUZZ_SECONDS", "60")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"EMLEARN_GEN_FUZZ_SECONDS must be a positive number of seconds, not {value!r}")
    return int(value)


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fuzz target, built with clang's libFuzzer and the sanitizers."""
    out = tmp_path_factory.mktemp("fuzz") / "fuzz_model_file"
    _build("fuzz_model_file.cpp", "fuzzer,address,undefined", out)
    return out


def _build(source: str, sanitizers: str, out: Path) -> None:
    clang = require_tool("clang++", "clang")
    cmd = [
        clang, "-std=c++11", "-g", "-O1", f"-fsanitize={sanitizers}", "-fno-sanitize-recover=all",
        f"-I{REPO / 'runtime' / 'include'}", str(FUZZ_DIR / source), "-o", str(out),
    ]
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if result.returncode != 0 and "fuzzer" in result.stdout and ("cannot find" in result.stdout or "unsupported" in result.stdout):
        missing(f"clang++ here has no libFuzzer (apt-get install clang): {result.stdout[-500:]}")
    assert result.returncode == 0, " ".join(cmd) + "\n" + result.stdout


def _corpus(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for key in SEEDS:
        example = catalog.example(key)
        est, _ = catalog.fitted(example)
        cm = emlearn_gen.convert(est, name="model", **example.options)
        (folder / f"{key}.emlg").write_bytes(cm.to_model_file())
    return len(SEEDS)


def test_seeds_cover_every_family():
    from emlearn_gen.families import REGISTRY

    families = set()
    for key in SEEDS:
        example = catalog.example(key)
        est, _ = catalog.fitted(example)
        families.add(emlearn_gen.convert(est, name="model", **example.options).family.name)
    assert families == {f.name for f in REGISTRY.families}


def _run(fuzzer: Path, args: list, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(fuzzer), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
    )


def test_seed_files_load_and_run(fuzzer: Path, tmp_path: Path):
    """Every seed is a valid file: the target loads it and runs each of its
    entry points (it traps if a loaded model refuses one)."""
    _corpus(tmp_path / "seeds")
    files = sorted(str(p) for p in (tmp_path / "seeds").iterdir())
    result = _run(fuzzer, ["-runs=0", *files], tmp_path, 300)
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"Executed {files[-1]}" in result.stdout, result.stdout[-2000:]


def _seed_line(output: str) -> str:
    """libFuzzer's "INFO: Seed: N" line: -seed=N replays the run's mutations."""
    return next((line + "\n" for line in output.splitlines() if line.startswith("INFO: Seed:")), "")


def _as_hex(files: List[Path], limit: int = 16384) -> str:
    """The inputs themselves, so that a failure on a machine whose temporary
    folder is gone can still be replayed (`xxd -r -p input.hex input`)."""
    parts = []
    for path in files:
        data = path.read_bytes()
        shown = data[:limit].hex()
        parts.append(f"{path.name} ({len(data)} bytes{', first ' + str(limit) if len(data) > limit else ''}):\n{shown}\n")
    return "".join(parts)


def test_fuzzing_finds_nothing(fuzzer: Path, tmp_path: Path):
    seconds = _seconds()
    corpus = tmp_path / "corpus"
    _corpus(corpus)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    result = _run(
        fuzzer,
        [
            f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
            f"-artifact_prefix={artifacts}/", str(corpus),
        ],
        tmp_path,
        seconds + 300,
    )
    found = sorted(artifacts.iterdir())
    assert result.returncode == 0 and not found, (
        f"the fuzzer found inputs that break the loader: {[p.name for p in found]} in {artifacts}\n"
        + _seed_line(result.stdout) + _as_hex(found) + result.stdout[-6000:]
    )
    assert "stat::number_of_executed_units" in result.stdout, result.stdout[-2000:]


def test_every_mutant_of_each_seed_is_refused_or_runs(tmp_path: Path):
    """Every bit of each seed flipped (and again with its CRC made right),
    every truncation and every 32-bit word of its header and records at 0,
    1, 2^31 - 1 and 2^32 - 1: the loader refuses each mutant with a status,
    or it loads and runs every entry point it lists, under ASan and UBSan."""
    mutator = tmp_path / "mutate_model_files"
    _build("mutate_model_files.cpp", "address,undefined", mutator)
    seeds = tmp_path / "seeds"
    _corpus(seeds)
    files = sorted(seeds.iterdir())
    result = subprocess.run(
        [str(mutator), *map(str, files)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    for path in files:
        size = path.stat().st_size
        data = path.read_bytes()
        header_words = min(size, 32 + 8 * data[10] + 4 * data[11] + 12 * data[12]) // 4
        expected = 8 * size + size + 4 * header_words
        assert f"{path}: {expected} mutants" in result.stdout, result.stdout[-2000:]
