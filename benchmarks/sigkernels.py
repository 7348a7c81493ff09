"""Signal kernels: emlearn-gen's FFT and feature extractors against emlearn's
C FFT (``eml_fft.h``) and numpy / scipy, on windows that never repeat.

Rows (one per kernel, length and implementation):

* ``fft``: the one-sided spectrum of n real samples, no window.
  emlearn-gen: ``emlearn_gen.signal.spectrum.rfft`` (Python) and
  ``emlearn_gen::rfft`` (C++); emlearn: ``eml_fft_forward`` on a copy of the
  window with a zero imaginary part (it is an in-place complex radix-2 FFT
  with its cos/sin tables filled once by ``eml_fft_fill``; powers of two
  only, and no Python binding in the pip package); numpy.fft.rfft and
  scipy.fft.rfft on the float32 windows (float32 arithmetic in numpy 2).
* ``spectrum``: ``Spectrum(n_fft)`` with its defaults (periodic Hann window,
  power |X|^2) against numpy: ``np.abs(np.fft.rfft(x * w)) ** 2``.
* ``mfcc``: ``MFCC(n_fft)`` with its defaults (40 Slaney mel bands at
  16 kHz, log 10 log10(max(E, 1e-10)), 13 coefficients of the orthonormal
  DCT-II) against the same steps in numpy and scipy.fft.dct.
* ``window_features``: ``WindowFeatures(n_samples, 3)`` with every feature
  (mean, std, min, max, rms, zero crossings, peak-to-peak, energy) against
  numpy reductions over the window axis.

Measured per row: calls per second through the Python API with one window
per call, windows per second with a batch in one call (CPU time of the
process), calls per second of
the C/C++ kernel in a native loop (g++/gcc -O2, CPU time), instructions per
window on x86-64 (callgrind, the kernel's function and its callees) and on
the Cortex-M4F (qemu's trace through emlearn_gen.testing.instructions,
arm-none-eabi -Os), and the largest error against the same computation in
float64 (numpy's float64 rfft for the FFT rows) on the same windows.
Samples are standard normal float32, a new window for every call.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

from .native import COMMON_DEVICE_FLAGS, DEVICES, NICE, ToolFailed, run

#: FFT lengths every implementation takes, and the mixed-radix ones only ours does.
POW2_LENGTHS = (64, 256, 512)
MIXED_LENGTHS = (60, 240, 480)
SPECTRUM_N = 256
MFCC_N = 256
WINDOW_SAMPLES, WINDOW_CHANNELS = 128, 3

# The kernels, by the code the native drivers dispatch on.
KERNELS = {"fft": 0, "fft_emlearn": 1, "spectrum": 2, "mfcc": 3, "window_features": 4}
#: The C function of each native kernel: what callgrind and qemu count.
FUNCTIONS = {0: "bench_ours_rfft", 1: "bench_emlearn_rfft", 2: "bench_ours_spectrum", 3: "bench_ours_mfcc",
             4: "bench_ours_window_stats"}


@dataclass(frozen=True)
class Case:
    """One kernel on one window size: its rows (one per implementation)
    share the windows."""

    kernel: str  # "fft", "spectrum", "mfcc", "window_features"
    n: int  # samples per window and channel
    channels: int = 1

    @property
    def key(self) -> str:
        shape = f"{self.n}x{self.channels}" if self.channels > 1 else str(self.n)
        return f"{self.kernel}_{shape}"

    @property
    def width(self) -> int:
        return self.n * self.channels


def cases() -> List[Case]:
    return ([Case("fft", n) for n in sorted(POW2_LENGTHS + MIXED_LENGTHS)]
            + [Case("spectrum", SPECTRUM_N), Case("mfcc", MFCC_N),
               Case("window_features", WINDOW_SAMPLES, WINDOW_CHANNELS)])


def windows(case: Case, count: int, seed: int) -> np.ndarray:
    """``count`` distinct windows of standard normal float32 samples."""
    rng = np.random.default_rng([seed, case.n, case.channels, len(case.kernel)])
    return rng.standard_normal((count, case.width)).astype(np.float32)


# --------------------------------------------------------------------------
# The implementations in Python: (one window per call, a batch per call)


def _mfcc_tables(n: int) -> Any:
    from emlearn_gen.signal import MFCC

    return MFCC(n_fft=n).fit()


def python_implementations(case: Case) -> Dict[str, Tuple[Callable[[np.ndarray], Any], Callable[[np.ndarray], Any]]]:
    """{tool: (call on one window, call on a batch)} as users call them: our
    transformers fitted once, numpy written with vectorised operations."""
    import scipy.fft
    import scipy.signal

    from emlearn_gen.signal import Spectrum, WindowFeatures
    from emlearn_gen.signal.spectrum import mel_filterbank, rfft

    n = case.n
    if case.kernel == "fft":
        return {
            "emlearn_gen": (lambda x: rfft(x[None, :]), rfft),
            "numpy": (np.fft.rfft, lambda X: np.fft.rfft(X, axis=-1)),
            "scipy": (scipy.fft.rfft, lambda X: scipy.fft.rfft(X, axis=-1)),
        }
    if case.kernel == "spectrum":
        ours = Spectrum(n_fft=n).fit()
        w = scipy.signal.get_window("hann", n)
        return {
            "emlearn_gen": (lambda x: ours.transform(x[None, :]), ours.transform),
            "numpy": (lambda x: np.abs(np.fft.rfft(x * w)) ** 2, lambda X: np.abs(np.fft.rfft(X * w, axis=-1)) ** 2),
        }
    if case.kernel == "mfcc":
        mfcc = _mfcc_tables(n)
        w = scipy.signal.get_window("hann", n)
        fb = mel_filterbank(16000.0, n, 40)

        def numpy_mfcc(X: np.ndarray) -> np.ndarray:
            power = np.abs(np.fft.rfft(X * w, axis=-1)) ** 2
            log_mel = 10.0 * np.log10(np.maximum(power @ fb.T, 1e-10))
            return scipy.fft.dct(log_mel, type=2, norm="ortho", axis=-1)[..., :13]

        return {
            "emlearn_gen": (lambda x: mfcc.transform(x[None, :]), mfcc.transform),
            "numpy": (numpy_mfcc, numpy_mfcc),
        }
    ours_wf = WindowFeatures(case.n, case.channels).fit(np.zeros((1, case.width), dtype=np.float32))

    def numpy_features(X: np.ndarray) -> np.ndarray:
        x = X.reshape(-1, case.n, case.channels)
        energy = np.sum(x * x, axis=1)
        low, high = x.min(axis=1), x.max(axis=1)
        crossings = np.count_nonzero(np.diff(x < 0, axis=1), axis=1)
        return np.concatenate([x.mean(axis=1), x.std(axis=1), low, high, np.sqrt(energy / case.n), crossings,
                               high - low, energy], axis=1)

    return {
        "emlearn_gen": (lambda x: ours_wf.transform(x[None, :]), ours_wf.transform),
        "numpy": (numpy_features, numpy_features),
    }


def reference(case: Case, X: np.ndarray) -> np.ndarray:
    """The float64 result the rows are judged against: numpy's float64
    rfft for the FFT, the numpy implementation on float64 windows for the
    others (complex FFT bins as (re, im) pairs)."""
    X64 = X.astype(np.float64)
    if case.kernel == "fft":
        return _pairs(np.fft.rfft(X64, axis=-1))
    batch = python_implementations(case)["numpy"][1]
    return np.asarray(batch(X64), dtype=np.float64)


def _pairs(z: np.ndarray) -> np.ndarray:
    """Complex bins as interleaved (re, im) float64 values per window."""
    z = np.asarray(z)
    if np.iscomplexobj(z):
        return np.stack([z.real, z.imag], axis=-1).reshape(z.shape[0], -1).astype(np.float64)
    return np.asarray(z, dtype=np.float64).reshape(z.shape[0], -1)


def errors(got: np.ndarray, want: np.ndarray) -> Dict[str, float]:
    """max_abs_err: the largest absolute difference; max_rel_err: the
    largest of each window's largest difference over its largest reference
    magnitude."""
    diff = np.abs(_pairs(got) - want)
    scale = np.max(np.abs(want), axis=1)
    return {"max_abs_err": float(diff.max()),
            "max_rel_err": float(np.max(diff.max(axis=1) / np.where(scale > 0, scale, 1.0)))}


def _cpu_rate(step: Callable[[int], None], count: int, min_time: float, repeats: int = 3) -> float:
    """Calls per CPU second of step(i) over i = 0 .. count - 1 (passes
    repeated until min_time), best of ``repeats``: CPU time of the process,
    which other load on the machine hardly changes; of all its threads, so
    that numpy's matrix products on BLAS threads are charged in full."""
    best = float("inf")
    for _ in range(repeats):
        calls, t0 = 0, time.process_time()
        while True:
            for i in range(count):
                step(i)
            calls += count
            spent = time.process_time() - t0
            if spent >= min_time:
                break
        best = min(best, spent / calls)
    return 1.0 / best


def python_speed(case: Case, X: np.ndarray, batch_rows: int, min_time: float) -> Dict[str, Dict[str, float]]:
    """{tool: {py_calls_per_s, py_batch_windows_per_s, max_abs_err,
    max_rel_err}} on the windows of X (one call per window), and on
    ``batch_rows`` of them in one call."""
    want = reference(case, X)
    out: Dict[str, Dict[str, float]] = {}
    for tool, (one, batch) in python_implementations(case).items():
        row: Dict[str, float] = {}
        row["py_calls_per_s"] = _cpu_rate(lambda i: one(X[i]), X.shape[0], min_time)
        B = X[:batch_rows]
        row["py_batch_windows_per_s"] = B.shape[0] * _cpu_rate(lambda i: batch(B), 1, min_time)
        row.update(errors(np.asarray(batch(X)), want))
        out[tool] = row
    return out


# --------------------------------------------------------------------------
# Native kernels: one driver for the host and one for the Cortex-M4F

KERNELS_CPP = r"""
// emlearn-gen's kernels behind C functions, so that their instructions are
// counted from the call to the return (callgrind, qemu's trace).
#include <stdint.h>
#include "emlearn_gen/fft.hpp"
#include "emlearn_gen/spectrum.hpp"
#include "emlearn_gen/window_stats.hpp"
#include "bench_case.h"

static const uint8_t bench_all_features[8] = {0, 1, 2, 3, 4, 5, 6, 7};

extern "C" void bench_ours_rfft(const float* x, const bench_case* c, float* out, float* scratch) {
  (void)emlearn_gen::rfft(x, c->n, nullptr, c->twiddles, out, scratch);
}

extern "C" void bench_ours_spectrum(const float* x, const bench_case* c, float* out, float* scratch) {
  (void)emlearn_gen::spectrum(x, c->n, c->window, c->twiddles, emlearn_gen::spectrum_kind::power, 1e-10f, out,
                              scratch);
}

// MFCC as the MFCC transformer computes it: power spectrum, log-mel
// energies, the DCT matrix.
extern "C" void bench_ours_mfcc(const float* x, const bench_case* c, float* out, float* scratch) {
  const uint32_t bins = emlearn_gen::rfft_bins(c->n);
  float* power = scratch;
  float* mel = power + bins;
  (void)emlearn_gen::spectrum(x, c->n, c->window, c->twiddles, emlearn_gen::spectrum_kind::power, 1e-10f, power,
                              mel + c->n_mels);
  emlearn_gen::filterbank fb;
  fb.first_bin = c->fb_first;
  fb.offsets = c->fb_offsets;
  fb.weights = c->fb_weights;
  fb.n_filters = static_cast<uint16_t>(c->n_mels);
  fb.n_bins = static_cast<uint16_t>(bins);
  emlearn_gen::filterbank_energies(fb, power, true, 1e-10f, mel);
  emlearn_gen::matrix_vector(c->dct, mel, c->n_mels, c->n_out, out);
}

extern "C" void bench_ours_window_stats(const float* x, const bench_case* c, float* out, float* scratch) {
  (void)scratch;
  (void)emlearn_gen::window_stats(x, c->n, c->channels, bench_all_features, 8u, out);
}
"""

EMLEARN_C = r"""
/* emlearn's FFT as its documentation uses it: the samples copied into the
 * real buffer, the imaginary one zeroed, eml_fft_forward in place. */
#include <stdint.h>
#include <string.h>
#include "eml_fft.h"

/* Its tables: n / 2 cosines and sines, filled once per length. */
void bench_emlearn_fill(uint32_t n, float* sin_table, float* cos_table) {
  EmlFFT table;
  table.length = (int)(n / 2u);
  table.sin = sin_table;
  table.cos = cos_table;
  (void)eml_fft_fill(table, n);
}

void bench_emlearn_rfft(const float* x, uint32_t n, float* sin_table, float* cos_table, float* re, float* im) {
  EmlFFT table;
  table.length = (int)(n / 2u);
  table.sin = sin_table;
  table.cos = cos_table;
  memcpy(re, x, n * sizeof(float));
  memset(im, 0, n * sizeof(float));
  (void)eml_fft_forward(table, re, im, n);
}
"""

CASE_H = r"""
// One measured case: the kernel, the window and the tables it needs.
#ifndef BENCH_CASE_H
#define BENCH_CASE_H
#include <stdint.h>
struct bench_case {
  uint32_t kernel;  // 0 ours rfft, 1 emlearn rfft, 2 ours spectrum, 3 ours MFCC, 4 ours window statistics
  uint32_t n;
  uint32_t channels;
  uint32_t n_out;   // floats of output per window
  const float* twiddles;
  const float* window;
  const uint16_t* fb_first;
  const uint16_t* fb_offsets;
  const float* fb_weights;
  uint32_t n_mels;
  const float* dct;
};
#endif
"""

# The dispatch, shared by both drivers: main() calls the kernels itself so
# that the counted functions return straight into it.
DISPATCH = r"""
#include <string.h>
#include "bench_case.h"
#include "bench_tables.h"

extern "C" {
void bench_ours_rfft(const float* x, const bench_case* c, float* out, float* scratch);
void bench_ours_spectrum(const float* x, const bench_case* c, float* out, float* scratch);
void bench_ours_mfcc(const float* x, const bench_case* c, float* out, float* scratch);
void bench_ours_window_stats(const float* x, const bench_case* c, float* out, float* scratch);
void bench_emlearn_fill(uint32_t n, float* sin_table, float* cos_table);
void bench_emlearn_rfft(const float* x, uint32_t n, float* sin_table, float* cos_table, float* re, float* im);
}

static float bench_scratch[8192];
static float bench_re[1024];
static float bench_im[1024];
static float bench_sin[512];
static float bench_cos[512];

#define BENCH_CALL(c, x, out)                                                \
  switch ((c).kernel) {                                                      \
    case 0: bench_ours_rfft((x), &(c), (out), bench_scratch); break;         \
    case 1: bench_emlearn_rfft((x), (c).n, bench_sin, bench_cos, bench_re, bench_im); break; \
    case 2: bench_ours_spectrum((x), &(c), (out), bench_scratch); break;     \
    case 3: bench_ours_mfcc((x), &(c), (out), bench_scratch); break;         \
    default: bench_ours_window_stats((x), &(c), (out), bench_scratch); break; \
  }

// emlearn's result as the one-sided interleaved spectrum the others give.
static void bench_emlearn_out(const bench_case& c, float* out) {
  for (uint32_t k = 0; k <= c.n / 2u; ++k) {
    out[2u * k] = bench_re[k];
    out[2u * k + 1u] = bench_im[k];
  }
}
"""

HOST_MAIN = r"""
// Host driver: driver outputs|speed|count CASE inputs.bin N_WINDOWS out.bin
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
""" + DISPATCH + r"""
static double bench_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: driver outputs|speed|count CASE inputs.bin N_WINDOWS out.bin\n");
    return 2;
  }
  const bench_case& c = bench_cases[atoi(argv[2])];
  const long n_windows = atol(argv[4]);
  const long width = static_cast<long>(c.n * c.channels);
  float* x = static_cast<float*>(malloc(sizeof(float) * width * n_windows));
  float* out = static_cast<float*>(malloc(sizeof(float) * c.n_out * n_windows));
  FILE* in = fopen(argv[3], "rb");
  if (!in || fread(x, sizeof(float), width * n_windows, in) != static_cast<size_t>(width * n_windows)) {
    fprintf(stderr, "cannot read %s\n", argv[3]);
    return 2;
  }
  fclose(in);
  if (c.kernel == 1u) {
    bench_emlearn_fill(c.n, bench_sin, bench_cos);
  }
  if (strcmp(argv[1], "speed") == 0) {
    // Calls per CPU second, best of 3; each repeat runs passes over the
    // windows until 0.2 s.
    double best = 1e300;
    for (int rep = 0; rep < 3; ++rep) {
      long calls = 0;
      const double t0 = bench_cpu_seconds();
      double spent = 0.0;
      do {
        for (long w = 0; w < n_windows; ++w) {
          BENCH_CALL(c, x + w * width, out + w * c.n_out)
        }
        calls += n_windows;
        spent = bench_cpu_seconds() - t0;
      } while (spent < 0.2);
      best = spent / calls < best ? spent / calls : best;
    }
    printf("%.9g\n", 1.0 / best);
    return 0;
  }
  for (long w = 0; w < n_windows; ++w) {
    BENCH_CALL(c, x + w * width, out + w * c.n_out)
    if (c.kernel == 1u) {
      bench_emlearn_out(c, out + w * c.n_out);
    }
  }
  if (strcmp(argv[1], "outputs") == 0) {
    FILE* o = fopen(argv[5], "wb");
    fwrite(out, sizeof(float), c.n_out * n_windows, o);
    fclose(o);
  }
  return 0;
}
"""

DEVICE_MAIN_TAIL = r"""
// Runs every case on its windows, read from inputs.bin through semihosting
// (outside the counted calls).
int main() {
  static float x[2048];
  static float out[1024];
  if (!eg_input_open()) {
    return 1;
  }
  for (uint32_t i = 0; i < sizeof bench_cases / sizeof bench_cases[0]; ++i) {
    const bench_case& c = bench_cases[i];
    if (c.kernel == 1u) {
      bench_emlearn_fill(c.n, bench_sin, bench_cos);
    }
    for (uint32_t w = 0; w < BENCH_DEVICE_WINDOWS; ++w) {
      if (!eg_read_row(x, c.n * c.channels * sizeof(float))) {
        return 1;
      }
      BENCH_CALL(c, x, out)
    }
  }
  eg_flush();
  return 0;
}
"""


@dataclass(frozen=True)
class NativeCase:
    """A case as the drivers run it: its index in bench_cases and the tool."""

    case: Case
    tool: str  # "emlearn_gen" or "emlearn"
    kernel: int
    n_out: int


def native_cases(all_cases: Sequence[Case]) -> List[NativeCase]:
    found: List[NativeCase] = []
    for case in all_cases:
        bins = case.n // 2 + 1
        if case.kernel == "fft":
            found.append(NativeCase(case, "emlearn_gen", KERNELS["fft"], 2 * bins))
            if case.n & (case.n - 1) == 0:
                found.append(NativeCase(case, "emlearn", KERNELS["fft_emlearn"], 2 * bins))
        elif case.kernel == "spectrum":
            found.append(NativeCase(case, "emlearn_gen", KERNELS["spectrum"], bins))
        elif case.kernel == "mfcc":
            found.append(NativeCase(case, "emlearn_gen", KERNELS["mfcc"], 13))
        else:
            found.append(NativeCase(case, "emlearn_gen", KERNELS["window_features"], 8 * case.channels))
    return found


def _floats(name: str, values: np.ndarray) -> str:
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    body = ",\n".join("  " + ", ".join(f"{float(v):.9e}f" for v in flat[i:i + 6]) for i in range(0, flat.size, 6))
    return f"static const float {name}[{max(1, flat.size)}] = {{\n{body or '  0.0f'}\n}};\n"


def _uint16s(name: str, values: np.ndarray) -> str:
    return f"static const uint16_t {name}[{len(values)}] = {{{', '.join(str(int(v)) for v in values)}}};\n"


def tables_header(natives: Sequence[NativeCase]) -> str:
    """bench_tables.h: every case's tables (computed as our transformers
    compute them) and the array bench_cases."""
    from emlearn_gen.signal.spectrum import twiddle_table, window_table

    parts: List[str] = []
    entries: List[str] = []
    for i, nc in enumerate(natives):
        n = nc.case.n
        twiddles = window = first = offsets = weights = dct = "nullptr"
        n_mels = 0
        if nc.kernel in (0, 2, 3):
            parts.append(_floats(f"bench_twiddles_{i}", twiddle_table(n)))
            twiddles = f"bench_twiddles_{i}"
        if nc.kernel in (2, 3):
            parts.append(_floats(f"bench_window_{i}", window_table("hann", n)))
            window = f"bench_window_{i}"
        if nc.kernel == 3:
            mfcc = _mfcc_tables(n)
            fb_first, fb_offsets, fb_weights = mfcc.filterbank_tables_
            parts += [_uint16s(f"bench_fb_first_{i}", fb_first), _uint16s(f"bench_fb_offsets_{i}", fb_offsets),
                      _floats(f"bench_fb_weights_{i}", fb_weights), _floats(f"bench_dct_{i}", mfcc.dct_)]
            first, offsets, weights, dct = (f"bench_fb_first_{i}", f"bench_fb_offsets_{i}", f"bench_fb_weights_{i}",
                                            f"bench_dct_{i}")
            n_mels = len(fb_first)
        entries.append(f"  {{{nc.kernel}u, {n}u, {nc.case.channels}u, {nc.n_out}u, {twiddles}, {window}, {first}, "
                       f"{offsets}, {weights}, {n_mels}u, {dct}}},")
    return "".join(parts) + "static const bench_case bench_cases[] = {\n" + "\n".join(entries) + "\n};\n"


def _write_sources(folder: Path, natives: Sequence[NativeCase]) -> None:
    (folder / "bench_case.h").write_text(CASE_H, encoding="utf-8")
    (folder / "bench_tables.h").write_text(tables_header(natives), encoding="utf-8")
    (folder / "kernels.cpp").write_text(KERNELS_CPP, encoding="utf-8")
    (folder / "emlearn_fft.c").write_text(EMLEARN_C, encoding="utf-8")


def emlearn_include_dir() -> Path:
    """The folder of emlearn's C headers: its package folder (what
    emlearn.common.get_include_dir returns), found without importing
    emlearn, whose import sets numpy to raise on every floating-point
    warning (numpy.seterr(all='raise') in emlearn/bayes.py) for the whole
    process. ToolFailed if emlearn is not installed."""
    spec = importlib.util.find_spec("emlearn")
    if spec is None or not spec.submodule_search_locations:
        raise ToolFailed("emlearn is not installed: pip install -r benchmarks/requirements.txt")
    return Path(list(spec.submodule_search_locations)[0])


def _includes() -> List[str]:
    import emlearn_gen

    return [f"-I{emlearn_gen.get_include()}", f"-I{emlearn_include_dir()}", "-I."]


def build_host(folder: Path, natives: Sequence[NativeCase], timeout: float) -> Path:
    """The host driver, g++/gcc -O2."""
    _write_sources(folder, natives)
    (folder / "host_main.cpp").write_text(HOST_MAIN, encoding="utf-8")
    inc = _includes()
    run(["g++", "-O2", "-std=c++11", *inc, "-c", "kernels.cpp", "-o", "kernels.o"], folder, timeout, "g++ kernels")
    run(["g++", "-O2", "-std=gnu++11", *inc, "-c", "host_main.cpp", "-o", "host_main.o"], folder, timeout,
        "g++ driver")
    run(["gcc", "-O2", "-std=gnu99", *inc, "-c", "emlearn_fft.c", "-o", "emlearn_fft.o"], folder, timeout,
        "gcc emlearn")
    # Symbols bound at start-up (-z now): lazily bound, the first call of a
    # kernel would resolve them and callgrind would count the dynamic linker.
    run(["g++", "kernels.o", "host_main.o", "emlearn_fft.o", "-lm", "-Wl,-z,now", "-o", "driver"], folder, timeout,
        "host link")
    return folder / "driver"


def host_measure(folder: Path, exe: Path, index: int, nc: NativeCase, X: np.ndarray, X_count: np.ndarray,
                 timeout: float) -> Dict[str, Any]:
    """Outputs on X, native calls per second on X, and (with valgrind)
    x86-64 instructions per window on X_count, of one native case."""
    X.astype(np.float32).tofile(folder / f"in_{index}.bin")
    row: Dict[str, Any] = {}
    run([str(exe), "outputs", str(index), f"in_{index}.bin", str(X.shape[0]), f"out_{index}.bin"], folder, timeout,
        "host outputs")
    row["outputs"] = np.fromfile(folder / f"out_{index}.bin", dtype=np.float32).reshape(X.shape[0], nc.n_out)
    out, _, _ = run([str(exe), "speed", str(index), f"in_{index}.bin", str(X.shape[0]), "-"], folder, timeout,
                    "host speed")
    row["native_calls_per_s"] = float(out.strip())
    if shutil.which("valgrind"):
        X_count.astype(np.float32).tofile(folder / f"count_{index}.bin")
        profile = folder / f"callgrind_{index}.out"
        run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={profile}",
             f"--toggle-collect={FUNCTIONS[nc.kernel]}", str(exe), "count", str(index), f"count_{index}.bin",
             str(X_count.shape[0]), "-"], folder, timeout, "callgrind")
        from .native import _TOTALS

        totals = _TOTALS.findall(profile.read_text(encoding="utf-8", errors="replace"))
        if totals:
            row["x86_instr_per_window"] = int(totals[-1]) / X_count.shape[0]
    return row


def device_counts(folder: Path, natives: Sequence[NativeCase], inputs: Sequence[np.ndarray], n_windows: int,
                  timeout: float) -> Dict[int, float]:
    """{native case index: Cortex-M4F instructions per window} from one
    image running every case on ``n_windows`` windows (qemu's trace)."""
    from emlearn_gen.testing import CORTEX_M4F
    from emlearn_gen.testing.instructions import count_calls
    from emlearn_gen.testing.targets import SUPPORT_DIR

    dev = next(d for d in DEVICES if d.key == "m4f")
    _write_sources(folder, natives)
    main = ("#include <stdint.h>\n" + f"#define BENCH_DEVICE_WINDOWS {n_windows}u\n" + DISPATCH
            + CORTEX_M4F.prelude() + DEVICE_MAIN_TAIL)
    (folder / "device_main.cpp").write_text(main, encoding="utf-8")
    base = [*dev.flags, *COMMON_DEVICE_FLAGS]
    inc = _includes()
    cxx = [dev.cxx, *base, "-fno-exceptions", "-fno-rtti", *inc]
    run([*cxx, "-std=c++11", "-c", "kernels.cpp", "-o", "m4f_kernels.o"], folder, timeout, "M4F kernels")
    run([*cxx, "-std=gnu++11", "-c", "device_main.cpp", "-o", "m4f_main.o"], folder, timeout, "M4F driver")
    run([dev.cc, *base, "-std=gnu99", *inc, "-c", "emlearn_fft.c", "-o", "m4f_emlearn.o"], folder, timeout,
        "M4F emlearn")
    run([dev.cc, *base, "-std=c11", "-c", str(SUPPORT_DIR / "cortex_m_startup.c"), "-o", "m4f_startup.o"],
        folder, timeout, "M4F start-up")
    run([dev.cxx, *base, "--specs=rdimon.specs", "-nostartfiles", f"-L{SUPPORT_DIR}",
         f"-T{CORTEX_M4F.linker_script}", "-Wl,--gc-sections", "m4f_startup.o", "m4f_main.o", "m4f_kernels.o",
         "m4f_emlearn.o", "-lm", "-o", "signal_m4f.elf"], folder, timeout, "M4F link")
    # Every case's windows, in the order main() reads them.
    np.concatenate([X[:n_windows].reshape(-1) for X in inputs]).astype("<f4").tofile(folder / "inputs.bin")
    functions = sorted(set(FUNCTIONS[nc.kernel] for nc in natives))
    from emlearn_gen.testing import BuildFailed

    try:
        counts, _ = count_calls(CORTEX_M4F, folder / "signal_m4f.elf", functions, folder, timeout,
                                command_prefix=NICE)
    except BuildFailed as exc:
        raise ToolFailed(f"Cortex-M4F instructions: {str(exc).splitlines()[0]}") from exc
    # Each function's calls come in the order of the cases that use it.
    found: Dict[int, float] = {}
    taken = {fn: 0 for fn in functions}
    for index, nc in enumerate(natives):
        fn = FUNCTIONS[nc.kernel]
        calls = counts[fn][taken[fn]: taken[fn] + n_windows]
        taken[fn] += n_windows
        if len(calls) != n_windows:
            raise ToolFailed(f"Cortex-M4F instructions: traced {len(calls)} calls of {fn}, expected {n_windows}")
        found[index] = sum(calls) / n_windows
    return found


# --------------------------------------------------------------------------
# The rows


LABELS = {"emlearn_gen": "emlearn-gen (ours)", "emlearn": "emlearn (eml_fft.h)", "numpy": "numpy", "scipy": "scipy"}


def measure(work: Path, quick: bool, log: Callable[[str], None], with_device: bool = True) -> List[Dict[str, Any]]:
    """Every signal row: {kernel, n, channels, tool, ...numbers}."""
    n_windows = 300 if quick else 1000
    batch_rows = 200 if quick else 1000
    min_time = 0.05 if quick else 0.2
    count_windows = 10 if quick else 40
    device_windows = 2 if quick else 5
    all_cases = cases()
    inputs = {c.key: windows(c, n_windows, seed=0) for c in all_cases}
    rows: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for case in all_cases:
        X = inputs[case.key]
        for tool, numbers in python_speed(case, X, batch_rows, min_time).items():
            rows[(case.key, tool)] = {"case": case.key, "kernel": case.kernel, "n": case.n,
                                      "channels": case.channels, "tool": tool, "tool_label": LABELS[tool],
                                      "n_windows": n_windows, **numbers}
        log(f"[signal] {case.key}: Python API measured")
    natives = native_cases(all_cases)
    folder = work / "signal"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        exe = build_host(folder, natives, 300.0)
    except ToolFailed as exc:
        log(f"[signal] native kernels: {exc}")
        return list(rows.values())
    for index, nc in enumerate(natives):
        X = inputs[nc.case.key]
        row = rows.setdefault((nc.case.key, nc.tool), {
            "case": nc.case.key, "kernel": nc.case.kernel, "n": nc.case.n, "channels": nc.case.channels,
            "tool": nc.tool, "tool_label": LABELS[nc.tool], "n_windows": n_windows,
            "py_note": "no Python API (emlearn 0.23.2 ships eml_fft.h only)"})
        try:
            measured = host_measure(folder, exe, index, nc, X, X[:count_windows], 600.0)
        except ToolFailed as exc:
            row["native_note"] = str(exc)
            log(f"[signal] {nc.case.key} {nc.tool}: {exc}")
            continue
        outputs = measured.pop("outputs")
        row.update(measured)
        if nc.tool == "emlearn":
            row.update(errors(outputs, reference(nc.case, X)))
        else:
            # The native kernel computes what the Python API returned, bit for bit.
            api = python_implementations(nc.case)["emlearn_gen"][1](X)
            row["native_equals_api"] = bool(np.array_equal(_pairs(np.asarray(api)).astype(np.float32), outputs))
        log(f"[signal] {nc.case.key} {nc.tool}: {row['native_calls_per_s']:.0f} calls/s native")
    if with_device and shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-g++"):
        try:
            per_window = device_counts(folder, natives, [inputs[nc.case.key] for nc in natives], device_windows,
                                       900.0)
        except ToolFailed as exc:
            log(f"[signal] Cortex-M4F: {exc}")
        else:
            for index, nc in enumerate(natives):
                rows[(nc.case.key, nc.tool)]["m4f_instr_per_window"] = per_window[index]
            log("[signal] Cortex-M4F instructions counted")
    return list(rows.values())
