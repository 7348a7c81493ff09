"""Checks on names that end up in generated C++."""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

CPP_KEYWORDS = frozenset(
    """
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t
    char16_t char32_t class compl concept const consteval constexpr constinit const_cast
    continue co_await co_return co_yield decltype default delete do double dynamic_cast
    else enum explicit export extern false float for friend goto if inline int long
    mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected
    public register reinterpret_cast requires return short signed sizeof static
    static_assert static_cast struct switch template this thread_local throw true try
    typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
    xor_eq
    """.split()
)

# Names the generated header itself defines at namespace scope, or that the
# runtime and C library own; a model namespace with one of these names would
# clash with them.
RESERVED = frozenset({"emlearn_gen", "std", "detail", "NULL", "main"})


def check_identifier(name: object, what: str = "name") -> str:
    """Returns ``name`` if it is a usable C++ identifier, else raises ValueError."""
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a string, got {type(name).__name__}")
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"{what} {name!r} is not a C++ identifier: use letters, digits and underscores, "
            "not starting with a digit (e.g. 'gesture_model')"
        )
    if name in CPP_KEYWORDS:
        raise ValueError(f"{what} {name!r} is a C++ keyword; choose another, e.g. '{name}_model'")
    if name in RESERVED:
        raise ValueError(f"{what} {name!r} is reserved by emlearn-gen or C++; choose another")
    if name.startswith("__") or "__" in name or re.match(r"_[A-Z]", name):
        raise ValueError(
            f"{what} {name!r} is reserved for the C++ implementation "
            "(double underscore, or underscore and capital); choose another"
        )
    return name
