"""Rendering of generated headers (Jinja2). Templates see only plain data
derived from the IR, the packed tables and the entry-point description,
never scikit-learn objects."""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

import jinja2
import numpy as np

from . import literals
from .banner import feature_name_lines
from .entry_points import STATE_TYPE, VALUES
from .layout import Layout, header_length, table_ctype

#: Templates live inside the package: core/templates/ and families/<name>/.
_PACKAGE = Path(__file__).resolve().parent.parent


def comment_text(value: object) -> str:
    """Text that is safe inside a // comment: printable ASCII, one line."""
    text = re.sub(r"[^\x20-\x7e]", "?", str(value))
    return text.replace("\\", "/")  # a trailing backslash would continue the comment


def table_body(array: np.ndarray, ctype: str) -> str:
    """Initializer of a table of ``ctype`` (at least one element)."""
    data = np.asarray(array).reshape(-1)
    if data.size == 0:
        data = np.zeros(1, dtype=data.dtype)
    if ctype == "uint8_t":
        return literals.byte_array_body(data)
    if ctype == "float":
        return literals.real_array_body(data, "float32")
    if ctype == "emlearn_gen::real64":
        return literals.real_array_body(data, "float64")
    if ctype == "uint32_t":
        # Unsigned literals: values from 2^31 on are not ints.
        return literals.wrap((f"{v}u" for v in data.astype(np.uint32).tolist()), 12)
    return literals.wrap((literals.int_literal(v) for v in data.tolist()), 12)


#: avr-gcc's largest object: PTRDIFF_MAX where pointers have 16 bits. A
#: model whose tables take more has far tables on AVR (see far_tables).
AVR_MAX_OBJECT_BYTES = 2**15 - 1
#: far_chunk_bytes and far_chunk_overlap of runtime/include/emlearn_gen/common.hpp.
FAR_CHUNK_BYTES = 16384
FAR_CHUNK_OVERLAP = 8
#: Bytes of a table element on AVR (real64 is soft_double there).
_AVR_ELEMENT_BYTES = {"uint8_t": 1, "int8_t": 1, "int16_t": 2, "uint32_t": 4, "float": 4, "emlearn_gen::real64": 8}


@dataclass(frozen=True)
class FarTable:
    """One table of a model with far tables (AVR): its chunks, each
    ``2**shift`` elements (FAR_CHUNK_BYTES) followed by FAR_CHUNK_OVERLAP
    bytes of the next, so that a read of up to that many bytes stays in the
    chunk where it starts; the last chunk holds the rest."""

    name: str
    ctype: str
    doc: str
    shift: int
    chunks: Tuple[np.ndarray, ...]


def table_bytes_avr(layout: Layout, tables: Mapping[str, np.ndarray], real: str) -> int:
    """Bytes the tables of a header take on AVR."""
    return sum(
        header_length(tables[t.name]) * _AVR_ELEMENT_BYTES[table_ctype(t, real)] for t in layout.tables
    )


def far_tables(layout: Layout, tables: Mapping[str, np.ndarray], real: str) -> Optional[List[FarTable]]:
    """The chunks of every table, for the header's AVR far-table variant, if
    the model needs one: if its tables take more than one avr-gcc object may
    hold. Then a table may be over that limit itself, and together they
    would crowd (or overflow) the low 64 KiB of flash that near PROGMEM data
    must share. None for smaller models, whose headers are as on every other
    target."""
    if table_bytes_avr(layout, tables, real) <= AVR_MAX_OBJECT_BYTES:
        return None
    out = []
    for t in layout.tables:
        ctype = table_ctype(t, real)
        element = _AVR_ELEMENT_BYTES[ctype]
        per_chunk = FAR_CHUNK_BYTES // element
        overlap = FAR_CHUNK_OVERLAP // element
        data = np.asarray(tables[t.name]).reshape(-1)
        if data.size == 0:
            data = np.zeros(1, dtype=data.dtype)  # as table_body: C++ has no empty arrays
        chunks = tuple(
            _even_bytes(data[start : start + per_chunk + overlap], element)
            for start in range(0, data.size, per_chunk)
        )
        out.append(FarTable(t.name, ctype, t.doc, per_chunk.bit_length() - 1, chunks))
    return out


def _even_bytes(chunk: np.ndarray, element: int) -> np.ndarray:
    """``chunk`` with a zero byte appended if it has an odd number of bytes.
    The chunks lie among the code, which must stay at even addresses: avr-gcc
    aligns no function, each relies on the sections before it being of even
    size."""
    if (chunk.size * element) % 2 == 0:
        return chunk
    return np.concatenate([chunk, np.zeros(1, dtype=chunk.dtype)])


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_PACKAGE)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["c_float"] = literals.float_literal
    env.filters["c_int"] = literals.int_literal
    env.filters["c_string"] = literals.string_literal
    env.filters["c_bytes"] = literals.byte_array_body
    env.filters["c_reals"] = literals.real_array_body
    env.filters["c_table"] = table_body
    env.filters["comment"] = comment_text
    env.globals["header_length"] = header_length
    env.globals["table_ctype"] = table_ctype
    env.globals["far_tables"] = far_tables
    return env


def render(template: str, context: Dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)


def label_type(classes: np.ndarray) -> str:
    lo, hi = int(np.min(classes)), int(np.max(classes))
    return "int32_t" if -(2**31) <= lo and hi < 2**31 else "int64_t"


def _classes_context(classes: Any) -> Dict[str, Any]:
    if classes is None:
        return {"classes": None, "string_labels": False, "label_type": "int32_t"}
    labels = np.asarray(classes)
    string_labels = labels.dtype.kind in "UO"
    return {
        "classes": [str(c) if string_labels else int(c) for c in labels.tolist()],
        "string_labels": string_labels,
        "label_type": "int32_t" if string_labels else label_type(labels),
    }


def stack_lines(cm: Any) -> List[str]:
    """Banner lines stating the stack each entry point needs at most."""
    kernel = cm.family.kernel_stack(cm._lowered)
    lines = ["Stack per call, at most (kernel measured at -Os on Cortex-M0, Cortex-M4F and AVR):"]
    total = cm.stated_stack
    stream = cm._lowered.stream
    for ep in cm.entry_points:
        before = cm.steps_stack(ep.name)
        # A stream's first term is the stack of the entry point it calls.
        caller = f"{stream.source}()" if stream is not None and ep.name == stream.name else "the steps"
        steps = f"{before} for {caller} + " if before else ""
        local, what = cm._lowered.scratch.get(ep.name, (0, ""))
        arrays = f"{what} + " if local else ""
        lines.append(f"{ep.name}() {total[ep.name]} bytes: {steps}{arrays}{kernel} for the kernel.")
    return lines


def _input_names(cm: Any) -> Any:
    """Names of the header's inputs: the selected columns' where it takes some."""
    names = getattr(cm, "feature_names_in_", ())
    if cm.input_columns is None or len(names) == 0:
        return names
    return np.asarray(names)[cm.input_columns]


def model_fingerprint(cm: Any, fields: Dict[str, int], classes: Dict[str, Any]) -> str:
    """16 hex digits that identify what a header defines: family and format,
    layout, tables, entry points and labels. Headers of one name and
    fingerprint are the same model (the include guard and the link-time check
    of core/templates/model_identity.j2 rely on it); comments (versions,
    summary) do not count. Deterministic across hosts."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode("ascii"))
        digest.update(data)

    tables = cm._tables
    description = {
        "family": cm.family.name,
        "format": cm.family.format_version,
        "real": tables.real,
        "fields": fields,
        "entry_points": [[ep.name, ep.output, ep.width] for ep in cm.entry_points],
        "classes": classes["classes"],
        "label_type": classes["label_type"],
        "input_columns": None if cm.input_columns is None else [int(c) for c in cm.input_columns],
        "window": None if cm.window_shape is None else list(cm.window_shape),
        "stream": None if cm._lowered.stream is None else cm._lowered.stream.fingerprint(),
    }
    extras = [(key, model) for key, model in (("steps", cm.steps), ("target", cm.target)) if model is not None]
    for key, model in extras:
        description[key] = {"format": model.family.format_version, "fields": dict(model._tables.fields)}
    add("model", json.dumps(description, sort_keys=True, ensure_ascii=True).encode("ascii"))
    parts = [("", tables.tables)] + [(key + ".", model._tables.tables) for key, model in extras]
    for prefix, named in parts:
        for name in sorted(named):
            table = np.asarray(named[name])
            add(prefix + name, np.ascontiguousarray(table, dtype=table.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()[:16]


def model_context(cm: Any) -> Dict[str, Any]:
    """Everything the generic header template needs, plus the family's context."""
    family = cm.family
    lowered = cm._lowered
    tables = cm._tables
    entries = {ep.name: ep for ep in lowered.entry_points}
    decision = entries.get("decision_function")
    fields = family.layout.header_fields(tables.tables, tables.fields)
    classes = _classes_context(lowered.classes)
    context: Dict[str, Any] = {
        "name": cm.name,
        "estimator": cm.estimator_name,
        "options": lowered.options,
        "summary": list(lowered.summary)
        + ["Target: " + line for line in (cm.target._lowered.summary if cm.target is not None else ())]
        + stack_lines(cm),
        "feature_lines": feature_name_lines(_input_names(cm)),
        "fingerprint": model_fingerprint(cm, fields, classes),
        "runtime_header": f"emlearn_gen/{family.runtime_header}",
        "format_macro": family.format_macro,
        "format_version": family.format_version,
        "n_features": cm.n_device_features,
        "input_columns": None if cm.input_columns is None else [int(c) for c in cm.input_columns],
        "n_row_features": cm.n_features_in_,
        "window": cm.window_shape,
        "n_outputs": lowered.n_outputs,
        "n_decision": decision.width if decision is not None and decision.output == VALUES else None,
        # The family's bodies are the row entry points'; the frame writes
        # the stream's (core/templates/stream.j2).
        "entry_points": [ep for ep in lowered.entry_points if not ep.has_state],
        "stream": lowered.stream,
        "stream_entry": next((ep for ep in lowered.entry_points if ep.has_state), None),
        "stream_state": STATE_TYPE,
        "layout": family.layout,
        "tables": tables.tables,
        "fields": fields,
        "real": tables.real,
        **classes,
        **cm._versions,
    }
    context["steps"] = _steps_context(cm.steps) if cm.steps is not None else None
    context["target"] = _steps_context(cm.target) if cm.target is not None else None
    if cm.steps is not None:
        context["summary"] = ["Steps: " + line for line in cm.steps._lowered.summary] + context["summary"]
    context.update(lowered.context)
    return context


def _steps_context(steps: Any) -> Dict[str, Any]:
    """What the frame needs of a Pipeline's steps: their tables and
    descriptor, and how to call them."""
    family = steps.family
    tables = steps._tables
    fields = family.layout.header_fields(tables.tables, tables.fields)
    return {
        "layout": family.layout,
        "tables": tables.tables,
        "fields": fields,
        "real": tables.real,
        "runtime_header": f"emlearn_gen/{family.runtime_header}",
        "format_macro": family.format_macro,
        "format_version": family.format_version,
        "n_features": steps.n_features_in_,
        "n_outputs": int(steps.n_outputs_),
        # Two rows between the steps and the signal kernels' buffers: the
        # scratch the steps' own transform entry point declares.
        "n_scratch": steps._lowered.scratch.get("transform", (0, ""))[0] // 4,
        "max_width": int(fields["max_width"]),
    }


def render_model(cm: Any) -> str:
    return render(cm.family.template, model_context(cm))
