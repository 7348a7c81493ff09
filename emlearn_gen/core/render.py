"""Rendering of generated headers (Jinja2). Templates see only plain data
derived from the IR, the packed tables and the entry-point description,
never scikit-learn objects."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import jinja2
import numpy as np

from . import literals
from .entry_points import VALUES
from .layout import header_length, table_ctype

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
    return literals.wrap((literals.int_literal(v) for v in data.tolist()), 12)


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


def model_context(cm: Any) -> Dict[str, Any]:
    """Everything the generic header template needs, plus the family's context."""
    family = cm.family
    lowered = cm._lowered
    tables = cm._tables
    entries = {ep.name: ep for ep in lowered.entry_points}
    decision = entries.get("decision_function")
    context: Dict[str, Any] = {
        "name": cm.name,
        "estimator": cm.estimator_name,
        "options": lowered.options,
        "summary": list(lowered.summary),
        "stack_bytes": lowered.stack_bytes,
        "runtime_header": f"emlearn_gen/{family.runtime_header}",
        "format_macro": family.format_macro,
        "format_version": family.format_version,
        "n_features": lowered.n_features,
        "n_outputs": lowered.n_outputs,
        "n_decision": decision.width if decision is not None and decision.output == VALUES else None,
        "entry_points": list(lowered.entry_points),
        "layout": family.layout,
        "tables": tables.tables,
        "fields": family.layout.header_fields(tables.tables, tables.fields),
        "real": tables.real,
        **_classes_context(lowered.classes),
        **cm._versions,
    }
    context.update(lowered.context)
    return context


def render_model(cm: Any) -> str:
    return render(cm.family.template, model_context(cm))
