"""What a model costs on a device: flash, static RAM and stack, measured on
linked images (``arm-none-eabi-size`` / ``avr-size``) and on the emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np

from .build import BuildCache
from .harness import footprint_sources, parse_output, parse_stack
from .runner import build_device_image
from .targets import DeviceTarget


@dataclass(frozen=True)
class Footprint:
    """Bytes a model adds to an image on ``target``.

    ``flash`` is text + rodata + data and ``ram`` is data + bss of the image
    with the model, minus the same of the identical program without it (the
    empty harness): the model's code, its tables and whatever library code
    (soft float) it pulls in. ``stack`` is the most stack any entry point
    used, measured as a high-water mark below the caller's stack pointer
    (``stack_by_method`` per entry point). The ``image_*`` and ``baseline_*``
    fields are the absolute sizes of the two images.
    """

    target: str
    flash: int
    ram: int
    stack: int
    stack_by_method: Dict[str, int] = field(default_factory=dict)
    image_flash: int = 0
    image_ram: int = 0
    baseline_flash: int = 0
    baseline_ram: int = 0

    def __str__(self) -> str:
        return (
            f"{self.target}: flash {self.flash} B, static RAM {self.ram} B, stack {self.stack} B "
            f"(image {self.image_flash} B flash / {self.image_ram} B RAM, empty harness "
            f"{self.baseline_flash} / {self.baseline_ram})"
        )


def measure_footprint(
    cm: Any,
    target: DeviceTarget,
    X32: np.ndarray,
    cache: BuildCache,
    timeout: float,
) -> Footprint:
    """Builds the footprint program with and without the model, reads both
    images' sizes and runs the model's to measure its stack. The outputs of
    that run are checked against the host runtime too."""
    header = f"{cm.name}.hpp"
    header_text = cm.to_source()
    sizes = {}
    images = {}
    for with_model in (False, True):
        sources = footprint_sources(
            cm.name, header, cm.entry_points, cm.device_inputs(X32), target.prelude(), target.exit_code(), with_model
        )
        elf = build_device_image(target, header, header_text if with_model else "", sources, cache, timeout)
        images[with_model] = elf
        sizes[with_model] = target.image_size(elf, timeout)
    output = target.run_image(images[True], cache.scratch(f"{target.name}-footprint"), timeout)
    got = parse_output(output, cm.entry_points, X32.shape[0])
    for ep in cm.entry_points:
        method = ep.name
        want = cm.raw_outputs(method, X32)
        same = np.array_equal(want, got[method]) if ep.returns_int else np.array_equal(want.view(np.uint32), got[method].view(np.uint32))
        if not same and getattr(target, "double_bits", 64) >= 64:
            raise AssertionError(f"{target.name}: {method} of the footprint program differs from the host runtime")
    stack = parse_stack(output, cm.entry_points)
    (base_flash, base_ram), (flash, ram) = sizes[False], sizes[True]
    return Footprint(
        target=target.name,
        flash=flash - base_flash,
        ram=ram - base_ram,
        stack=max(stack.values()),
        stack_by_method=stack,
        image_flash=flash,
        image_ram=ram,
        baseline_flash=base_flash,
        baseline_ram=base_ram,
    )


def footprint_inputs(cm: Any, X: Optional[Any], max_rows: int = 8, max_bytes: int = 2**15 - 1) -> np.ndarray:
    """Rows the footprint program runs: the first rows of X, or zeros; as
    many as fit one object on every target (one row at least)."""
    if X is None:
        return np.zeros((1, cm.n_features_in_), dtype=np.float32)
    rows = max(1, min(max_rows, max_bytes // (4 * cm.n_features_in_)))
    return cm.check_input(X)[:rows]
