"""Code generation: packed tables -> C++ header text."""

from .identifiers import check_identifier
from .render import render

__all__ = ["check_identifier", "render"]
