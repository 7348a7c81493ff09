"""Device images are linked with linker warnings as errors: an image the
linker warns about (a misaligned section, a flagged symbol) can hang an
emulator until its timeout, so the build stops with the linker's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from emlearn_gen.testing import DEVICE_TARGET_NAMES
from emlearn_gen.testing.pytest_plugin import require_target
from emlearn_gen.testing.targets import BuildFailed

# GNU ld warns when a symbol with a `.gnu.warning.<symbol>` section is
# referenced: a linker warning that any GNU toolchain reproduces.
FLAGGED = """
extern "C" void flagged_helper(void) {}
static const char flagged_helper_warning[] __attribute__((used, section(".gnu.warning.flagged_helper"))) =
    "flagged_helper is flagged";
"""
CALLER = """
extern "C" void flagged_helper(void);
int main() { flagged_helper(); return 0; }
"""


@pytest.mark.parametrize("device", DEVICE_TARGET_NAMES)
def test_linker_warning_fails_the_build(device: str, tmp_path: Path) -> None:
    target = require_target(device)
    (tmp_path / "flagged.cpp").write_text(FLAGGED)
    (tmp_path / "caller.cpp").write_text(CALLER)
    objects = target.compile_objects(tmp_path, ["flagged.cpp", "caller.cpp"], [], timeout=120)
    with pytest.raises(BuildFailed, match="flagged_helper is flagged"):
        target.link(tmp_path, objects, "flagged.elf", timeout=120)
