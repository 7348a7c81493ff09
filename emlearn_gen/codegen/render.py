"""Jinja2 rendering of generated headers. Templates see only IR-derived plain
data and packed tables, never scikit-learn objects."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict

import jinja2

from .._paths import templates_dir
from . import literals


def comment_text(value: object) -> str:
    """Text that is safe inside a // comment: printable ASCII, one line."""
    text = re.sub(r"[^\x20-\x7e]", "?", str(value))
    return text.replace("\\", "/")  # a trailing backslash would continue the comment


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
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
    env.filters["comment"] = comment_text
    return env


def render(template: str, context: Dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)
