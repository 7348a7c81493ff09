"""MicroPython's linker (``tools/mpy_ld.py`` of the SDK), with absolute words in Arm code.

    python mpy_link.py SDK_FOLDER [mpy_ld.py arguments...]

mpy_ld 1.23 relocates an absolute 32-bit word (``R_ARM_ABS32``) only in
``.data.rel.ro``: the loader adds the module's address to it at import. In
code it stops with an assertion. libgcc's division routines for
Cortex-M0 (``__aeabi_fdiv``, ``__aeabi_ddiv``: C compiled without -fpic)
keep such words in their literal pools, the addresses of their tables. A
word in the code is relocated exactly like a word in data (Arm modules keep
code and read-only data in one block), so this runs mpy_ld with those
relocations handed to its data relocation.

The module starts with a jump to its entry, ``mpy_init``; on Cortex-M0 a
jump reaches 2 KB, less than a model's code: mpy_init's section (its own,
with -ffunction-sections) is placed first.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List


def _patch(mpy_ld: Any) -> None:
    text_relocation = mpy_ld.do_relocation_text
    link_objects = mpy_ld.link_objects

    def relocate_text(env: Any, text_addr: int, r: Any) -> None:
        if env.arch.name == "EM_ARM" and r["r_info_type"] == mpy_ld.R_ARM_ABS32:
            mpy_ld.do_relocation_data(env, text_addr, r)
        else:
            text_relocation(env, text_addr, r)

    def link_entry_first(env: Any, *args: Any) -> None:
        entry = env.known_syms.get("mpy_init")
        if entry is not None and entry.section in env.sections:
            env.sections.remove(entry.section)
            env.sections.insert(0, entry.section)
        link_objects(env, *args)

    mpy_ld.do_relocation_text = relocate_text
    mpy_ld.link_objects = link_entry_first


def main(argv: List[str]) -> None:
    sdk = Path(argv[0])
    sys.path.insert(0, str(sdk / "tools"))
    import mpy_ld  # type: ignore[import-not-found]

    _patch(mpy_ld)
    sys.argv = ["mpy_ld.py", *argv[1:]]
    mpy_ld.main()


if __name__ == "__main__":
    main(sys.argv[1:])
