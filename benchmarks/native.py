"""Compiling each tool's code the same way: a host program (fidelity,
instruction counts, compile time) and bare-metal images (flash and RAM).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .tools import Generated

NICE = ["nice", "-n", "10"] if shutil.which("nice") else []

# ------------------------------------------------------------------ drivers

HOST_DRIVER = r"""
// Feeds every row of a float32 matrix to one tool's entry points and writes
// the results: <prefix>.labels (int32), <prefix>.outputs (float32) and
// <prefix>.decision (float64, decision_function where the tool has one).
// "speed" mode calls only the prediction entry point on the first rows; it is
// what callgrind counts.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef BENCH_IN_T in_t;
extern "C" int32_t bench_predict(const void* x);
extern "C" void bench_outputs(const void* x, float* out);
#if BENCH_N_DECISION
extern "C" void bench_decision(const void* x, double* out);
#endif

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: driver in.bin n_samples n_features out_prefix all|speed\n");
    return 2;
  }
  const long n = atol(argv[2]);
  const long f = atol(argv[3]);
  float* raw = static_cast<float*>(malloc(sizeof(float) * n * f));
  in_t* x = static_cast<in_t*>(malloc(sizeof(in_t) * n * f));
  FILE* in = fopen(argv[1], "rb");
  if (!in || fread(raw, sizeof(float), n * f, in) != static_cast<size_t>(n * f)) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  fclose(in);
  for (long i = 0; i < n * f; ++i) {
    x[i] = static_cast<in_t>(raw[i]);
  }
  float out[BENCH_N_OUT];
  if (strcmp(argv[5], "speed") == 0) {
    volatile float sink = 0.0f;
    for (long r = 0; r < n; ++r) {
#if BENCH_HAS_PREDICT
      sink = sink + static_cast<float>(bench_predict(x + r * f));
#else
      bench_outputs(x + r * f, out);
      sink = sink + out[0];
#endif
    }
    printf("%g\n", static_cast<double>(sink));
    return 0;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s.labels", argv[4]);
  FILE* labels = fopen(path, "wb");
  snprintf(path, sizeof path, "%s.outputs", argv[4]);
  FILE* outputs = fopen(path, "wb");
  snprintf(path, sizeof path, "%s.decision", argv[4]);
  FILE* decision = fopen(path, "wb");
  for (long r = 0; r < n; ++r) {
#if BENCH_HAS_PREDICT
    const int32_t label = bench_predict(x + r * f);
    fwrite(&label, sizeof label, 1, labels);
#endif
#if BENCH_HAS_OUTPUTS
    bench_outputs(x + r * f, out);
    fwrite(out, sizeof(float), BENCH_N_OUT, outputs);
#endif
#if BENCH_N_DECISION
    double scores[BENCH_N_DECISION];
    bench_decision(x + r * f, scores);
    fwrite(scores, sizeof(double), BENCH_N_DECISION, decision);
#endif
  }
  fclose(labels);
  fclose(outputs);
  fclose(decision);
  return 0;
}
"""

DEVICE_DRIVER = r"""
// Bare-metal image: one prediction on an input the compiler cannot see
// through, so the whole model is kept and nothing is folded.
#include <stdint.h>

typedef BENCH_IN_T in_t;
extern "C" int32_t bench_predict(const void* x);
extern "C" void bench_outputs(const void* x, float* out);

volatile in_t bench_in[BENCH_N_FEATURES];
volatile int32_t bench_label;
volatile float bench_out[BENCH_N_OUT];

int main() {
  in_t x[BENCH_N_FEATURES];
  for (int i = 0; i < BENCH_N_FEATURES; ++i) {
    x[i] = bench_in[i];
  }
#if BENCH_HAS_PREDICT
  bench_label = bench_predict(x);
#else
  float out[BENCH_N_OUT];
  bench_outputs(x, out);
  for (int i = 0; i < BENCH_N_OUT; ++i) {
    bench_out[i] = out[i];
  }
#endif
  return 0;
}
"""

EMPTY_MODEL = r"""
/* The empty harness: same entry points, no model. */
#include <stdint.h>
int32_t bench_predict(const void* x) {
  __asm__ volatile("" : : "r"(x) : "memory");
  return 0;
}
void bench_outputs(const void* x, float* out) {
  __asm__ volatile("" : : "r"(x), "r"(out) : "memory");
}
"""

# avr-libc has no C++ headers; micromlgen's output includes <cstdarg>.
AVR_SHIMS = {"cstdarg": "#include <stdarg.h>\n"}


class ToolFailed(RuntimeError):
    pass


def _first_error(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for pattern in ("error:", "undefined reference", "not within region", "overflowed", "error"):
        for line in lines:
            if pattern in line and not line.startswith("collect2"):
                return line[:240]
    return lines[0][:240] if lines else ""


TIME = shutil.which("time") and Path("/usr/bin/time").exists()
_CPU = re.compile(r"^BENCHCPU ([0-9.]+) ([0-9.]+)$", re.MULTILINE)


def run(cmd: Sequence[str], cwd: Path, timeout: float, what: str, cpu: bool = False) -> Tuple[str, float, str]:
    """Runs a command under nice; returns (stdout, seconds, stderr).

    seconds is wall time, or with ``cpu`` the command's user+system CPU time
    (GNU time), which other load on the machine hardly changes.
    """
    prefix = ["/usr/bin/time", "-f", "BENCHCPU %U %S"] if cpu and TIME else []
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            NICE + prefix + list(cmd), cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(f"{what}: did not finish within {timeout:.0f} s") from exc
    seconds = time.perf_counter() - t0
    stderr = proc.stderr
    found = _CPU.findall(stderr) if prefix else []
    if found:
        seconds = float(found[-1][0]) + float(found[-1][1])
        stderr = _CPU.sub("", stderr)
    if proc.returncode != 0:
        raise ToolFailed(f"{what} failed: {_first_error(stderr or proc.stdout)}")
    return proc.stdout, seconds, stderr


def _defines(gen: Generated, n_features: int) -> List[str]:
    return [
        f"-DBENCH_IN_T={gen.in_type}",
        f"-DBENCH_N_FEATURES={n_features}",
        f"-DBENCH_N_OUT={max(1, gen.n_out)}",
        f"-DBENCH_HAS_PREDICT={int(gen.has_predict)}",
        f"-DBENCH_HAS_OUTPUTS={int(bool(gen.outputs))}",
        f"-DBENCH_N_DECISION={gen.decision}",
    ]


def _lang_flags(lang: str) -> List[str]:
    if lang == "c":
        return ["-x", "c", "-std=gnu99"]
    return ["-x", "c++", "-std=c++11", "-fno-exceptions", "-fno-rtti"]


# --------------------------------------------------------------------- host


@dataclass
class HostBuild:
    exe: Path
    compile_s: float  # the model's translation unit, g++/gcc -O2 -c


def build_host(folder: Path, gen: Generated, n_features: int, timeout: float) -> HostBuild:
    cc = "gcc" if gen.lang == "c" else "g++"
    incs = [f"-I{d}" for d in gen.include_dirs] + [f"-I{folder}"]
    _, compile_s, _ = run(
        [cc, "-O2", *_lang_flags(gen.lang), *incs, "-c", gen.glue, "-o", "glue.o"],
        folder, timeout, f"host {cc} -O2", cpu=True,
    )
    (folder / "driver.cpp").write_text(HOST_DRIVER, encoding="utf-8")
    run(["g++", "-O2", "-std=c++11", *_defines(gen, n_features), "-c", "driver.cpp", "-o", "driver.o"],
        folder, timeout, "host driver")
    run(["g++", "driver.o", "glue.o", "-lm", "-o", "driver"], folder, timeout, "host link")
    return HostBuild(folder / "driver", compile_s)


@dataclass
class HostResults:
    """What the compiled model returned for every row (None: no such entry point)."""

    labels: Optional[np.ndarray]  # int32 class indices
    outputs: Optional[np.ndarray]  # float32 (n, n_out): probabilities or regression outputs
    decision: Optional[np.ndarray]  # float64 (n, n_decision): decision_function


def run_host(folder: Path, build: HostBuild, X: np.ndarray, gen: Generated, timeout: float) -> HostResults:
    """The compiled model's results on every row of X."""
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    X32.tofile(folder / "inputs.bin")
    run([str(build.exe), "inputs.bin", str(X32.shape[0]), str(X32.shape[1]), "res", "all"],
        folder, timeout, "host run")
    labels = np.fromfile(folder / "res.labels", dtype=np.int32) if gen.has_predict else None
    outputs = None
    if gen.outputs:
        outputs = np.fromfile(folder / "res.outputs", dtype=np.float32).reshape(X32.shape[0], -1)
    decision = None
    if gen.decision:
        decision = np.fromfile(folder / "res.decision", dtype=np.float64).reshape(X32.shape[0], gen.decision)
    return HostResults(labels, outputs, decision)


_TOTALS = re.compile(r"^(?:totals|summary):\s*(\d+)", re.MULTILINE)


def callgrind_instructions(folder: Path, build: HostBuild, X: np.ndarray, gen: Generated, timeout: float) -> float:
    """Instructions executed inside the prediction entry point, per call
    (valgrind --tool=callgrind, counting only while in that function)."""
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    X32.tofile(folder / "speed.bin")
    fn = "bench_predict" if gen.has_predict else "bench_outputs"
    out_file = folder / "callgrind.out"
    run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", f"--toggle-collect={fn}",
         str(build.exe), "speed.bin", str(X32.shape[0]), str(X32.shape[1]), "res", "speed"],
        folder, timeout, "callgrind")
    text = out_file.read_text(encoding="utf-8", errors="replace")
    found = _TOTALS.findall(text)
    if not found:
        raise ToolFailed("callgrind wrote no totals")
    return int(found[-1]) / X32.shape[0]


# ------------------------------------------------------------------ devices


@dataclass(frozen=True)
class Device:
    key: str
    label: str
    cc: str
    cxx: str
    size: str
    flags: Tuple[str, ...]
    link: Tuple[str, ...]
    flash_limit: int  # bytes, for the "fits" column
    ram_limit: int


DEVICES: Tuple[Device, ...] = (
    Device("m0", "Cortex-M0", "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-size",
           ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
           ("--specs=nano.specs", "--specs=nosys.specs"), 256 * 1024, 16 * 1024),
    Device("m4f", "Cortex-M4F", "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-size",
           ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
           ("--specs=nano.specs", "--specs=nosys.specs"), 1024 * 1024, 256 * 1024),
    Device("avr", "AVR ATmega2560", "avr-gcc", "avr-g++", "avr-size",
           ("-mmcu=atmega2560",), (), 256 * 1024, 8 * 1024),
)

COMMON_DEVICE_FLAGS = ("-Os", "-ffunction-sections", "-fdata-sections")


def device_available(dev: Device) -> Optional[str]:
    missing = [t for t in (dev.cc, dev.cxx, dev.size) if shutil.which(t) is None]
    return f"missing {', '.join(missing)}" if missing else None


def _size(dev: Device, elf: Path, folder: Path, timeout: float) -> Tuple[int, int, int]:
    """(text, data, bss) as the size tool's Berkeley format reports them."""
    out, _, _ = run([dev.size, str(elf)], folder, timeout, dev.size)
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and all(p.isdigit() for p in parts[:3]):
            return int(parts[0]), int(parts[1]), int(parts[2])
    raise ToolFailed(f"cannot read the output of {dev.size}: {out[:200]!r}")


def _image(dev: Device, folder: Path, model_src: str, lang: str, gen: Generated, n_features: int,
           include_dirs: Sequence[str], tag: str, timeout: float) -> Tuple[Tuple[int, int, int], float, str]:
    """Builds driver + model for ``dev``. Returns ((text, data, bss), compile
    seconds of the model's translation unit, overflow message or "")."""
    driver = f"device_driver_{dev.key}.cpp"
    (folder / driver).write_text(DEVICE_DRIVER, encoding="utf-8")
    incs = [f"-I{d}" for d in include_dirs] + [f"-I{folder}"]
    if dev.key == "avr":
        shim = folder / "avr_shims"
        shim.mkdir(exist_ok=True)
        for name, text in AVR_SHIMS.items():
            (shim / name).write_text(text, encoding="utf-8")
        incs.append(f"-I{shim}")
    cc = dev.cc if lang == "c" else dev.cxx
    base = [*dev.flags, *COMMON_DEVICE_FLAGS]
    obj = f"{tag}_{dev.key}_model.o"
    _, seconds, _ = run([cc, *base, *_lang_flags(lang), *incs, "-c", model_src, "-o", obj],
                        folder, timeout, f"{dev.label} compile", cpu=True)
    drv = f"{tag}_{dev.key}_driver.o"
    run([dev.cxx, *base, "-std=c++11", "-fno-exceptions", "-fno-rtti", *_defines(gen, n_features),
         "-c", driver, "-o", drv], folder, timeout, f"{dev.label} driver")
    elf = f"{tag}_{dev.key}.elf"
    # The AVR linker script knows the chip's memories: keep the image when it
    # overflows them so that its size can still be reported (as "does not fit").
    keep = ["-Wl,--noinhibit-exec"] if dev.key == "avr" else []
    _, _, err = run([dev.cxx, *base, "-Wl,--gc-sections", *keep, *dev.link, drv, obj, "-lm", "-o", elf],
                    folder, timeout, f"{dev.label} link")
    if "undefined reference" in err:
        raise ToolFailed(f"{dev.label} link failed: {_first_error(err)}")
    overflow = _first_error(err) if ("not within region" in err or "overflow" in err) else ""
    return _size(dev, folder / elf, folder, timeout), seconds, overflow


class _BaselineCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._done: Dict[Tuple, Tuple[int, int, int]] = {}
        self._locks: Dict[Tuple, threading.Lock] = {}

    def get(self, dev: Device, gen: Generated, n_features: int, timeout: float) -> Tuple[int, int, int]:
        key = (dev.key, gen.in_type, n_features, max(1, gen.n_out), gen.has_predict, bool(gen.outputs))
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._done:
                folder = self.root / ("baseline_" + "_".join(str(k) for k in key).replace(" ", ""))
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "empty.c").write_text(EMPTY_MODEL, encoding="utf-8")
                self._done[key], _, _ = _image(dev, folder, "empty.c", "c", gen, n_features, [], "empty", timeout)
            return self._done[key]


@dataclass
class Footprint:
    flash: int  # text + data added over the empty harness
    ram: int  # data + bss added over the empty harness (static only; no stack)
    image_flash: int
    image_ram: int
    compile_s: float
    overflow: str  # the linker's complaint when the image exceeds the chip's memories


def footprint(dev: Device, folder: Path, gen: Generated, n_features: int, baselines: _BaselineCache,
              timeout: float) -> Footprint:
    (t, d, b), seconds, overflow = _image(dev, folder, gen.glue, gen.lang, gen, n_features, gen.include_dirs,
                                          "model", timeout)
    bt, bd, bb = baselines.get(dev, gen, n_features, timeout)
    return Footprint(flash=(t + d) - (bt + bd), ram=(d + b) - (bd + bb), image_flash=t + d, image_ram=d + b,
                     compile_s=seconds, overflow=overflow)


def make_baselines(root: Path) -> _BaselineCache:
    return _BaselineCache(root)


def tool_version(cmd: Sequence[str]) -> str:
    exe = shutil.which(cmd[0])
    if exe is None:
        return "not installed"
    try:
        out = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def n_cpus() -> int:
    return os.cpu_count() or 1
