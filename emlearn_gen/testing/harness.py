"""Source of the test programs that run a generated header on a target.

The programs are target-agnostic. A target contributes a *prelude* that
defines ``static void eg_putc(char)`` (the one character sink), and may define
``static void eg_begin()`` (called first) and, for the input and stack modes
below, a few more functions. Outputs are printed as text, floats as the hex of
their bits so the host compares them bit for bit; inputs travel as float bit
patterns, so NaN and every float survive exactly.

Inputs reach the program in one of three ways:

* ``"table"``: compiled into the program as a table (in program memory on
  AVR, through EMLEARN_GEN_TABLE_ATTR);
* ``"extern"``: the same table, but in its own translation unit
  (:func:`input_source`), so that the model is compiled once and only the
  small input unit is rebuilt for each chunk of rows;
* ``"stream"``: read row by row at run time through
  ``bool eg_input_open()`` and ``bool eg_read_row(float* x, unsigned bytes)``
  that the prelude defines (semihosting file reads on Cortex-M).

Two translation units include the model header; the second computes the first
entry point, which proves the header links cleanly when included twice.

In *file mode* (``loaded=FileModel(...)``) the program runs a model file
rather than a header: the file is compiled in as a byte table
(:func:`model_file_source`, in program memory on AVR), loaded once with the
runtime's ``model_load`` and each entry point run with ``model_run``
(runtime loader.hpp). Its output is the same, so the same comparison
applies.

The footprint program (:func:`footprint_sources`) calls every entry point once
through a non-inlined wrapper and measures the stack each call uses: the
prelude then defines ``eg_stack_pointer()`` and ``eg_stack_bottom()`` (the
lowest address the stack may reach), the program paints the free stack with
a pattern before the call and finds the lowest byte the call overwrote.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.entry_points import INDICATOR, INPUT_ROW, VALUES, EntryPoint, widest
from ..core.literals import wrap

END_MARK = "END"
STACK_MARK = "STACK"
INPUT_MODES = ("table", "extern", "stream")

_PRINT_HELPERS = r"""
static inline void eg_puts(const char* s) {
  while (*s) {
    eg_putc(*s++);
  }
}

static inline void eg_put_int(int32_t v) {
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

"""

# Only where an entry point writes floats (a model may have labels only,
# as NearestCentroid with the manhattan metric): clang warns of an unused
# static function, even an inline one.
_PUT_FLOATS = r"""
static inline void eg_put_hex32(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  for (int shift = 28; shift >= 0; shift -= 4) {
    eg_putc(digits[(v >> shift) & 0xFu]);
  }
}

static inline void eg_put_floats(const float* values, int n) {
  for (int i = 0; i < n; ++i) {
    uint32_t bits;
    memcpy(&bits, &values[i], sizeof bits);
    eg_putc(' ');
    eg_put_hex32(bits);
  }
}
"""

# Only where an indicator entry point uses it: clang warns of an unused
# static function, even an inline one.
_PUT_INTS = r"""
static inline void eg_put_ints(const int32_t* values, int n) {
  for (int i = 0; i < n; ++i) {
    eg_putc(' ');
    eg_put_int(values[i]);
  }
}
"""


def _print_helpers(methods: Sequence[EntryPoint]) -> str:
    """The print functions the program's entry points need."""
    floats = _PUT_FLOATS if any(ep.output == VALUES for ep in methods) else ""
    return _PRINT_HELPERS + floats + (_PUT_INTS if any(ep.output == INDICATOR for ep in methods) else "")


_STACK_HELPERS = r"""
static const uint8_t eg_stack_pattern = 0xA5u;

// Fills the free stack, from its lowest address up to just below this
// function's own frame, with the pattern. Leaf function: its frame is tiny.
__attribute__((noinline)) static void eg_stack_paint() {
  volatile uint8_t* p = reinterpret_cast<volatile uint8_t*>(eg_stack_bottom());
  volatile uint8_t* const top = reinterpret_cast<volatile uint8_t*>(eg_stack_pointer() - 8u);
  while (p < top) {
    *p++ = eg_stack_pattern;
  }
}

// Lowest stack address written since the last eg_stack_paint().
__attribute__((noinline)) static uintptr_t eg_stack_low_water() {
  const volatile uint8_t* p = reinterpret_cast<const volatile uint8_t*>(eg_stack_bottom());
  while (*p == eg_stack_pattern) {
    ++p;
  }
  return reinterpret_cast<uintptr_t>(p);
}
"""


@dataclass(frozen=True)
class FileModel:
    """A model file's program: the entry-point ids of the file format
    (``_runtime.model_file_ids()``) and the scratch the largest entry point
    needs (the loader's model_scratch_bytes)."""

    entry_ids: Mapping[str, int]
    scratch_bytes: int


def model_file_source(data: bytes) -> str:
    """A header holding a model file as ``eg_model_file``: 8-byte aligned,
    in program memory on AVR (as a device keeps a file in flash)."""
    return "\n".join(
        [
            "// A model file, as a device might keep it in flash.",
            "#include <stdint.h>",
            '#include "emlearn_gen/common.hpp"',
            f"alignas(8) static const uint8_t eg_model_file[{max(1, len(data))}] EMLEARN_GEN_TABLE_ATTR = {{",
            wrap((f"0x{b:02x}" for b in data), 16) if data else "0",
            "};",
            "",
        ]
    )


def _file_runner(loaded: FileModel) -> List[str]:
    """The loaded model, its scratch and eg_run(), which runs one entry point."""
    return [
        "static emlearn_gen::loaded_model eg_model;",
        f"alignas(8) static uint8_t eg_scratch[{max(8, loaded.scratch_bytes)}];",
        "",
        "static void eg_run(uint8_t id, const float* x, float* values, int32_t* ints) {",
        "  const emlearn_gen::status s = emlearn_gen::model_run(eg_model, static_cast<emlearn_gen::entry_id>(id), x,",
        "                                                         values, ints, eg_scratch, sizeof eg_scratch);",
        "  if (s != emlearn_gen::status::ok) {",
        '    eg_puts("ERROR model_run ");',
        "    eg_put_int(static_cast<int32_t>(s));",
        "    eg_putc('\\n');",
        "  }",
        "}",
        "",
    ]


def _file_load(n_features: int, exit_code: str) -> List[str]:
    """Loads eg_model_file, or prints why not and ends the program."""
    return [
        "  const emlearn_gen::status loaded = emlearn_gen::model_load(eg_model_file, sizeof eg_model_file, &eg_model);",
        f"  if (loaded != emlearn_gen::status::ok || eg_model.file.n_features != {n_features}u) {{",
        '    eg_puts("ERROR model_load ");',
        "    eg_put_int(static_cast<int32_t>(loaded));",
        "    eg_putc(' ');",
        "    eg_put_int(static_cast<int32_t>(eg_model.file.problem));",
        "    eg_putc('\\n');",
        f"    {exit_code}",
        "  }",
    ]


def _file_calls(methods: Sequence[EntryPoint], loaded: FileModel) -> List[str]:
    calls = []
    for index, ep in enumerate(methods):
        ident = int(loaded.entry_ids[ep.name])
        calls.append(f"    eg_putc('{index}');")
        if ep.returns_int:
            calls += [
                "    {",
                "      int32_t value = 0;",
                f"      eg_run({ident}u, x, NULL, &value);",
                "      eg_putc(' ');",
                "      eg_put_int(value);",
                "    }",
            ]
        elif ep.output == INDICATOR:
            calls += [f"    eg_run({ident}u, x, NULL, out_int);", f"    {_put_out(ep)}"]
        else:
            calls += [f"    eg_run({ident}u, x, out, NULL);", f"    {_put_out(ep)}"]
        calls.append("    eg_putc('\\n');")
    return calls


def input_table(X32: np.ndarray) -> str:
    bits = np.ascontiguousarray(X32, dtype=np.float32).view(np.uint32).reshape(-1)
    if bits.size == 0:
        bits = np.zeros(1, dtype=np.uint32)
    return wrap((f"0x{int(b):08x}u" for b in bits.tolist()), 8)


def _out(ep: EntryPoint) -> str:
    """The program's output buffer for ``ep``: int32 for indicators."""
    return "out_int" if ep.output == INDICATOR else "out"


def _put_out(ep: EntryPoint) -> str:
    """The statement that prints ``ep``'s output buffer."""
    if ep.output == INDICATOR:
        return f"eg_put_ints(out_int, {ep.width});"
    return f"eg_put_floats(out, {ep.width});"


def _out_buffers(methods: Sequence[EntryPoint], indent: str) -> List[str]:
    """Static output buffers for every entry point of ``methods`` (an int32
    one only where an indicator entry point needs it)."""
    width = widest(methods)
    lines = [f"{indent}static float out[{width}];", f"{indent}(void)out;"]
    if any(ep.output == INDICATOR for ep in methods):
        lines += [f"{indent}static int32_t out_int[{width}];", f"{indent}(void)out_int;"]
    return lines


def _other_tu(model_name: str, header_name: str, methods: Sequence[EntryPoint]) -> Tuple[str, str]:
    """(declaration of eg_other_tu, source of the second translation unit)."""
    first = methods[0]
    assert not first.has_state, "a stream entry point comes after the model's own"
    decl = first.c_signature("eg_other_tu")
    call = first.c_call(f"{model_name}::{first.name}", out="out")
    body = f"  return {call};" if first.returns_int else f"  {call};"
    source = "\n".join(
        [
            "// Second translation unit: the model header included again.",
            "#include <stdint.h>",
            f'#include "{header_name}"',
            f"{decl};",
            f"{decl} {{",
            body,
            "}",
            "",
        ]
    )
    return decl, source


def _method_calls(model_name: str, methods: Sequence[EntryPoint], second_tu: bool) -> List[str]:
    calls = []
    for index, ep in enumerate(methods):
        fn = "eg_other_tu" if (index == 0 and second_tu) else f"{model_name}::{ep.name}"
        calls.append(f"    eg_putc('{index}');")
        if ep.returns_int:
            calls.append("    eg_putc(' ');")
            calls.append(f"    eg_put_int({ep.c_call(fn, state=_state_var(index))});")
        else:
            calls.append(f"    {ep.c_call(fn, out=_out(ep))};")
            calls.append(f"    {_put_out(ep)}")
        calls.append("    eg_putc('\\n');")
    return calls


def _state_var(index: int) -> str:
    """The test program's state of stream entry point ``index``."""
    return f"eg_state_{index}"


def _stream_states(model_name: str, methods: Sequence[EntryPoint], indent: str) -> List[str]:
    """The static state of each stream entry point and its reset: the
    program feeds it every row, in order, as one stream."""
    lines = []
    for index, ep in enumerate(methods):
        if ep.has_state:
            lines += [indent + line for line in ep.c_state(f"{model_name}::", _state_var(index))]
    return lines


def _begin_call(prelude: str) -> List[str]:
    return ["  eg_begin();"] if "eg_begin()" in prelude else []


def harness_sources(
    model_name: str,
    header_name: str,
    methods: Sequence[EntryPoint],
    X32: Optional[np.ndarray],
    prelude: str,
    exit_code: str = "return 0;",
    *,
    inputs: str = "table",
    n_features: Optional[int] = None,
    second_tu: bool = True,
    loaded: Optional[FileModel] = None,
) -> Dict[str, str]:
    """{file name: source} of the test program.

    With ``loaded``, ``header_name`` is a model file's header
    (:func:`model_file_source`) and the program runs the file through the
    runtime's loader (file mode; no second translation unit).

    ``prelude`` defines ``static void eg_putc(char)`` (and whatever else the
    target and the input mode need); ``exit_code`` ends main(). With
    ``inputs="table"`` the rows of X32 are compiled into main.cpp; with
    "extern" and "stream" only their count of features matters (give X32 or
    ``n_features``), and "extern" programs link with :func:`input_source`.
    """
    if inputs not in INPUT_MODES:
        raise ValueError(f"inputs must be one of {INPUT_MODES}, got {inputs!r}")
    if n_features is None:
        if X32 is None:
            raise ValueError("give X32 or n_features")
        n_features = int(X32.shape[1])
    files: Dict[str, str] = {}
    lines = [
        "// Runs every entry point of the model on the test inputs.",
        "#include <stdint.h>",
        "#include <string.h>",
        *(['#include "emlearn_gen/loader.hpp"'] if loaded else []),
        f'#include "{header_name}"',
        "",
        prelude.strip(),
        _print_helpers(methods),
    ]
    if loaded:
        if any(ep.has_state for ep in methods):
            raise ValueError("model files hold no stream entry point")
        second_tu = False
        lines += _file_runner(loaded)
    if second_tu:
        decl, files["other.cpp"] = _other_tu(model_name, header_name, methods)
        lines += [f"{decl};", ""]

    if inputs == "table":
        assert X32 is not None
        n_rows = int(X32.shape[0])
        lines += [
            f"static const uint32_t eg_n_rows = {n_rows}u;",
            f"static const uint32_t eg_inputs[{max(1, n_rows * n_features)}] EMLEARN_GEN_TABLE_ATTR = {{",
            input_table(X32),
            "};",
            "",
        ]
    elif inputs == "extern":
        lines += [
            "// Defined by the input unit of each chunk of rows.",
            "extern const uint32_t eg_n_rows;",
            "extern const uint32_t eg_inputs[] EMLEARN_GEN_TABLE_ATTR;",
            "",
        ]

    lines += [
        "int main() {",
        *_begin_call(prelude),
        *(_file_load(n_features, exit_code) if loaded else
          [f'  static_assert({model_name}::n_features == {n_features}, "feature count");']),
        "  // Static, so that the linker checks they fit the device's RAM.",
        f"  static float x[{n_features}];",
        *_out_buffers(methods, "  "),
        *_stream_states(model_name, methods, "  "),
        "  uint32_t row = 0;",
    ]
    if inputs == "stream":
        lines += [
            "  if (!eg_input_open()) {",
            '    eg_puts("ERROR cannot open the input file\\n");',
            "  }",
            "  for (; eg_read_row(x, sizeof x); ++row) {",
        ]
    else:
        lines += [
            "  for (; row < eg_n_rows; ++row) {",
            f"    emlearn_gen::table_copy(x, eg_inputs + row * {n_features}u, sizeof x);",
        ]
    lines += [
        *(_file_calls(methods, loaded) if loaded else _method_calls(model_name, methods, second_tu)),
        "  }",
        f'  eg_puts("{END_MARK} ");',
        "  eg_put_int(static_cast<int32_t>(row));",
        "  eg_putc('\\n');",
        f"  {exit_code}",
        "}",
        "",
    ]
    files["main.cpp"] = "\n".join(lines)
    return files


def input_source(X32: np.ndarray) -> str:
    """The input unit of an ``inputs="extern"`` program: the rows of X32."""
    n_rows = int(X32.shape[0])
    return "\n".join(
        [
            "// Test inputs: float bit patterns, one row after another.",
            "#include <stdint.h>",
            '#include "emlearn_gen/common.hpp"',
            "extern const uint32_t eg_n_rows;",
            "extern const uint32_t eg_inputs[] EMLEARN_GEN_TABLE_ATTR;",
            f"const uint32_t eg_n_rows = {n_rows}u;",
            f"const uint32_t eg_inputs[{max(1, X32.size)}] EMLEARN_GEN_TABLE_ATTR = {{",
            input_table(X32),
            "};",
            "",
        ]
    )


def footprint_sources(
    model_name: str,
    header_name: str,
    methods: Sequence[EntryPoint],
    X32: np.ndarray,
    prelude: str,
    exit_code: str,
    with_model: bool,
) -> Dict[str, str]:
    """{file name: source} of the footprint program.

    It calls each entry point on the rows of X32 through a wrapper that is
    never inlined and prints the most stack any call used. Built
    ``with_model=False`` it is the same program with empty wrappers: the
    difference between the two images is what the model adds.
    """
    n_features = int(X32.shape[1])
    lines = [
        "// Measures what the model adds to an image: code, tables, stack.",
        "#include <stdint.h>",
        "#include <string.h>",
        '#include "emlearn_gen/common.hpp"',
    ]
    if with_model:
        lines.append(f'#include "{header_name}"')
    lines += ["", prelude.strip(), _print_helpers(methods), _STACK_HELPERS]
    n_rows = int(X32.shape[0])
    lines += [
        f"static const uint32_t eg_inputs[{max(1, X32.size)}] EMLEARN_GEN_TABLE_ATTR = {{",
        input_table(X32),
        "};",
        "",
    ]
    if with_model:
        # Static: the image's RAM counts the states.
        lines += [ep.c_state(f"{model_name}::", _state_var(i))[0] for i, ep in enumerate(methods) if ep.has_state]
    for index, ep in enumerate(methods):
        call = ep.c_call(f"{model_name}::{ep.name}", state=_state_var(index))
        # The wrapper of a stream takes the row: the program without the
        # model has no state type.
        ep = dataclasses.replace(ep, input=INPUT_ROW) if ep.has_state else ep
        if ep.returns_int:
            body = f"return {call};" if with_model else "(void)x;\n  return 0;"
        else:
            body = f"{call};" if with_model else "(void)x;\n  out[0] = 0;"
        lines += [
            f"__attribute__((noinline)) static {ep.c_signature(f'eg_call_{index}')} {{",
            f"  {body}",
            "}",
        ]
    lines += [
        "",
        "int main() {",
        *_begin_call(prelude),
        f"  static float x[{n_features}];",
        *_out_buffers(methods, "  "),
    ]
    for index, ep in enumerate(methods):
        if ep.has_state:
            if with_model:  # one stream over the rows, from a reset state
                lines.append("  " + ep.c_state(f"{model_name}::", _state_var(index))[1])
            ep = dataclasses.replace(ep, input=INPUT_ROW)
        lines += [
            "  {",
            "    uintptr_t most = 0;",
            f"    for (uint32_t row = 0; row < {n_rows}u; ++row) {{",
            f"      emlearn_gen::table_copy(x, eg_inputs + row * {n_features}u, sizeof x);",
            "      eg_stack_paint();",
            "      const uintptr_t base = eg_stack_pointer();",
        ]
        if ep.returns_int:
            lines += [f"      const int32_t label = {ep.c_call(f'eg_call_{index}')};"]
        else:
            lines += [f"      {ep.c_call(f'eg_call_{index}', out=_out(ep))};"]
        lines += [
            "      const uintptr_t used = base - eg_stack_low_water();",
            "      most = used > most ? used : most;",
            f"      eg_putc('{index}');",
        ]
        if ep.returns_int:
            lines += ["      eg_putc(' ');", "      eg_put_int(label);"]
        else:
            lines += [f"      {_put_out(ep)}"]
        lines += [
            "      eg_putc('\\n');",
            "    }",
            f'    eg_puts("{STACK_MARK} {index} ");',
            "    eg_put_int(static_cast<int32_t>(most));",
            "    eg_putc('\\n');",
            "  }",
        ]
    lines += [
        f'  eg_puts("{END_MARK} ");',
        f"  eg_put_int({n_rows});",
        "  eg_putc('\\n');",
        f"  {exit_code}",
        "}",
        "",
    ]
    return {"main.cpp": "\n".join(lines)}


def parse_output(text: str, methods: Sequence[EntryPoint], n_samples: int) -> Dict[str, np.ndarray]:
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
        ep = methods[index]
        if ep.returns_int:
            rows[index].append(int(fields[0]))
        else:
            if len(fields) != ep.width:
                raise RuntimeError(f"{ep.name}: expected {ep.width} values, got {len(fields)}: {line!r}")
            rows[index].append([int(f, 10 if ep.output == INDICATOR else 16) for f in fields])
    if not ended:
        raise RuntimeError(f"the test program did not finish all {n_samples} samples; output ends with:\n{text[-2000:]}")
    result: Dict[str, np.ndarray] = {}
    for index, ep in enumerate(methods):
        if len(rows[index]) != n_samples:
            raise RuntimeError(f"{ep.name}: got {len(rows[index])} of {n_samples} results")
        if ep.returns_int:
            result[ep.name] = np.asarray(rows[index], dtype=np.int32)
        elif ep.output == INDICATOR:
            result[ep.name] = np.asarray(rows[index], dtype=np.int32).reshape(n_samples, ep.width)
        else:
            bits = np.asarray(rows[index], dtype=np.uint32).reshape(n_samples, ep.width)
            result[ep.name] = bits.view(np.float32)
    return result


def parse_stack(text: str, methods: Sequence[EntryPoint]) -> Dict[str, int]:
    """Stack bytes per entry point, from the footprint program's output."""
    found: Dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == STACK_MARK:
            found[methods[int(fields[1])].name] = int(fields[2])
    missing = [ep.name for ep in methods if ep.name not in found]
    if missing:
        raise RuntimeError(f"no stack measurement for {missing}; output ends with:\n{text[-2000:]}")
    return found
