"""Source of the test program that runs a generated header on a target.

The program is target-agnostic: inputs are compiled in as float bit patterns
(so NaN and every float survive exactly), outputs are printed as text through
one character sink the target provides (``eg_putc``), floats as the hex of
their bits so the host can compare them bit for bit. Two translation units
include the model header; the second computes ``predict``, which proves the
header links cleanly when included twice.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np

from ..codegen.literals import wrap

CMethod = Tuple[str, str, int]

END_MARK = "END"

_PRINT_HELPERS = r"""
static void eg_puts(const char* s) {
  while (*s) {
    eg_putc(*s++);
  }
}

static void eg_put_hex32(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  for (int shift = 28; shift >= 0; shift -= 4) {
    eg_putc(digits[(v >> shift) & 0xFu]);
  }
}

static void eg_put_int(int32_t v) {
  char buf[12];
  int n = 0;
  uint32_t u = v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v);
  do {
    buf[n++] = static_cast<char>('0' + u % 10u);
    u /= 10u;
  } while (u != 0u);
  if (v < 0) {
    eg_putc('-');
  }
  while (n > 0) {
    eg_putc(buf[--n]);
  }
}

static void eg_put_floats(const float* values, int n) {
  for (int i = 0; i < n; ++i) {
    uint32_t bits;
    memcpy(&bits, &values[i], sizeof bits);
    eg_putc(' ');
    eg_put_hex32(bits);
  }
}
"""


def input_table(X32: np.ndarray) -> str:
    bits = np.ascontiguousarray(X32, dtype=np.float32).view(np.uint32).reshape(-1)
    if bits.size == 0:
        bits = np.zeros(1, dtype=np.uint32)
    return wrap((f"0x{int(b):08x}u" for b in bits.tolist()), 8)


def harness_sources(
    model_name: str,
    header_name: str,
    methods: Sequence[CMethod],
    X32: np.ndarray,
    prelude: str,
    exit_code: str = "return 0;",
) -> Dict[str, str]:
    """{file name: source} of the test program.

    ``prelude`` defines ``static void eg_putc(char)`` (and whatever else the
    target needs); ``exit_code`` ends main().
    """
    n_samples, n_features = X32.shape
    first_name, first_kind, first_width = methods[0]
    width = max(w for _, _, w in methods)
    if first_kind == "label":
        other_decl = "int32_t eg_other_tu(const float* x)"
        other_body = f"  return {model_name}::{first_name}(x);"
    else:
        other_decl = "void eg_other_tu(const float* x, float* out)"
        other_body = f"  {model_name}::{first_name}(x, out);"
    other = "\n".join(
        [
            "// Second translation unit: the model header included again.",
            "#include <stdint.h>",
            f'#include "{header_name}"',
            f"{other_decl};",
            f"{other_decl} {{",
            other_body,
            "}",
            "",
        ]
    )

    calls = []
    for index, (name, kind, w) in enumerate(methods):
        calls.append(f"    eg_putc('{index}');")
        call_first = index == 0
        if kind == "label":
            fn = "eg_other_tu" if call_first else f"{model_name}::{name}"
            calls.append("    eg_putc(' ');")
            calls.append(f"    eg_put_int({fn}(x));")
        else:
            fn = "eg_other_tu" if call_first else f"{model_name}::{name}"
            calls.append(f"    {fn}(x, out);")
            calls.append(f"    eg_put_floats(out, {w});")
        calls.append("    eg_putc('\\n');")

    main = "\n".join(
        [
            "// Runs every entry point of the model on compiled-in inputs.",
            "#include <stdint.h>",
            "#include <string.h>",
            f'#include "{header_name}"',
            "",
            prelude.strip(),
            _PRINT_HELPERS,
            f"{other_decl};",
            "",
            f"static const uint32_t eg_inputs[{max(1, n_samples * n_features)}] EMLEARN_GEN_TABLE_ATTR = {{",
            input_table(X32),
            "};",
            "",
            "int main() {",
            f"  static_assert({model_name}::n_features == {n_features}, \"feature count\");",
            f"  float x[{n_features}];",
            f"  float out[{width}];",
            "  (void)out;",
            f"  for (uint32_t row = 0; row < {n_samples}u; ++row) {{",
            f"    emlearn_gen::table_copy(x, eg_inputs + row * {n_features}u, sizeof x);",
            *calls,
            "  }",
            f'  eg_puts("{END_MARK} ");',
            f"  eg_put_int({n_samples});",
            "  eg_putc('\\n');",
            f"  {exit_code}",
            "}",
            "",
        ]
    )
    return {"main.cpp": main, "other.cpp": other}


def parse_output(text: str, methods: Sequence[CMethod], n_samples: int) -> Dict[str, np.ndarray]:
    """Outputs printed by the harness -> {method: array}, like CModel.raw_outputs."""
    rows: Dict[int, list] = {i: [] for i in range(len(methods))}
    ended = False
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(END_MARK):
            ended = int(line.split()[1]) == n_samples
            break
        head, *fields = line.split()
        if not head.isdigit() or int(head) >= len(methods):
            continue  # target chatter, not ours
        index = int(head)
        name, kind, width = methods[index]
        if kind == "label":
            rows[index].append(int(fields[0]))
        else:
            if len(fields) != width:
                raise RuntimeError(f"{name}: expected {width} values, got {len(fields)}: {line!r}")
            rows[index].append([int(f, 16) for f in fields])
    if not ended:
        raise RuntimeError(f"the test program did not finish all {n_samples} samples; output ends with:\n{text[-2000:]}")
    result: Dict[str, np.ndarray] = {}
    for index, (name, kind, width) in enumerate(methods):
        if len(rows[index]) != n_samples:
            raise RuntimeError(f"{name}: got {len(rows[index])} of {n_samples} results")
        if kind == "label":
            result[name] = np.asarray(rows[index], dtype=np.int32)
        else:
            bits = np.asarray(rows[index], dtype=np.uint32).reshape(n_samples, width)
            result[name] = bits.view(np.float32)
    return result
