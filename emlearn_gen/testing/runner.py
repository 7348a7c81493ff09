"""Builds a model's test program for a target, runs it on the rows of X and
collects the outputs of every entry point (CModel.entry_points)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .._paths import get_include
from .build import BuildCache
from .harness import FileModel, harness_sources, input_source, model_file_source, parse_output
from .targets import SUPPORT_DIR, CortexMTarget, DeviceTarget, DoesNotFit, HostTarget


def _support_fingerprint() -> str:
    """Contents of the device support files: part of every device build key."""
    return "".join(p.read_text(encoding="utf-8") for p in sorted(SUPPORT_DIR.iterdir()) if p.is_file())


def _write(folder: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def build_device_image(
    target: DeviceTarget,
    header_name: str,
    header_text: str,
    sources: Dict[str, str],
    cache: BuildCache,
    timeout: float,
) -> Path:
    """Compiles and links ``sources`` (plus the start-up code on Cortex-M)
    into one ELF image for ``target``, through the cache."""
    include = get_include()

    def build(folder: Path) -> Path:
        (folder / header_name).write_text(header_text, encoding="utf-8")
        _write(folder, sources)
        objects = target.compile_objects(folder, sorted(sources), [include, str(folder)], timeout)
        if isinstance(target, CortexMTarget):
            objects.append(startup_object(target, cache, timeout))
        return target.link(folder, objects, "image.elf", timeout)

    parts = ["image", repr(target), include, _support_fingerprint(), header_name, header_text]
    parts += [f"{name}\n{text}" for name, text in sorted(sources.items())]
    return cache.get(parts, build)


def startup_object(target: CortexMTarget, cache: BuildCache, timeout: float) -> Path:
    source = target.startup_source().read_text(encoding="utf-8")
    return cache.get(["startup", repr(target), source], lambda folder: target.compile_startup(folder, timeout))


def program_model(cm: Any, model_file: bool) -> Tuple[str, str, Optional[FileModel]]:
    """(header name, header text, file mode) of a test program: the
    generated header, or with ``model_file`` the model's file as a byte
    table, which the program loads with the runtime's loader."""
    if not model_file:
        return f"{cm.name}.hpp", cm.to_source(), None
    from ..core.model_file import file_program

    data = cm.to_model_file()
    entry_ids, scratch = file_program(data)
    return "eg_model_file.hpp", model_file_source(data), FileModel(entry_ids, scratch)


def run_host(
    cm: Any, X32: np.ndarray, target: HostTarget, folder: Path, timeout: float, model_file: bool = False
) -> Dict[str, np.ndarray]:
    X32 = cm.device_inputs(X32)  # what the header's entry points take
    header, text, loaded = program_model(cm, model_file)
    (folder / header).write_text(text, encoding="utf-8")
    sources = harness_sources(
        cm.name, header, cm.entry_points, X32, target.prelude(), target.exit_code(), loaded=loaded
    )
    _write(folder, sources)
    output = target.build_and_run(folder, sorted(sources), [get_include()], timeout)
    return parse_output(output, cm.entry_points, X32.shape[0])


def _run_streamed(
    cm: Any, X32: np.ndarray, target: DeviceTarget, cache: BuildCache, timeout: float, model_file: bool = False
) -> Dict[str, np.ndarray]:
    """One image for any number of rows: the program reads them from a file."""
    X32 = cm.device_inputs(X32)  # what the header's entry points take
    header, header_text, loaded = program_model(cm, model_file)
    sources = harness_sources(
        cm.name, header, cm.entry_points, None, target.prelude(), target.exit_code(),
        inputs="stream", n_features=X32.shape[1], loaded=loaded,
    )
    elf = build_device_image(target, header, header_text, sources, cache, timeout)
    rundir = cache.scratch(f"{target.name}-run")
    np.ascontiguousarray(X32, dtype="<f4").tofile(rundir / "inputs.bin")
    output = target.run_image(elf, rundir, timeout)
    return parse_output(output, cm.entry_points, X32.shape[0])


def _run_chunked(
    cm: Any, X32: np.ndarray, target: DeviceTarget, cache: BuildCache, timeout: float, model_file: bool = False
) -> Dict[str, np.ndarray]:
    """Inputs compiled into the image, as many rows per image as fit: the
    model's objects are compiled once, each chunk adds a small input unit."""
    X32 = cm.device_inputs(X32)  # what the header's entry points take
    header, header_text, loaded = program_model(cm, model_file)
    include = get_include()
    sources = harness_sources(
        cm.name, header, cm.entry_points, None, target.prelude(), target.exit_code(),
        inputs="extern", n_features=X32.shape[1], loaded=loaded,
    )
    object_parts = ["objects", repr(target), include, header_text] + [f"{n}\n{t}" for n, t in sorted(sources.items())]

    def compile_model(folder: Path) -> List[Path]:
        (folder / header).write_text(header_text, encoding="utf-8")
        _write(folder, sources)
        return target.compile_objects(folder, sorted(sources), [include, str(folder)], timeout)

    objects = cache.get(object_parts, compile_model)

    def link_chunk(chunk: np.ndarray) -> Path:
        text = input_source(chunk)

        def build(folder: Path) -> Path:
            _write(folder, {"inputs.cpp": text})
            inputs_obj = target.compile_objects(folder, ["inputs.cpp"], [include], timeout)
            return target.link(folder, [*objects, *inputs_obj], "image.elf", timeout)

        return cache.get(["chunk", *object_parts, text], build)

    row_bytes = 4 * X32.shape[1]
    rows = min(X32.shape[0], max(1, target.max_object_bytes() // row_bytes))
    results: List[Dict[str, np.ndarray]] = []
    start = 0
    while start < X32.shape[0]:
        chunk = X32[start : start + rows]
        try:
            elf = link_chunk(chunk)
        except DoesNotFit as exc:
            if len(chunk) == 1 or exc.region not in ("flash", "near program memory"):
                raise
            # The linker said by how much: drop that many rows, and retry.
            rows = max(1, len(chunk) - math.ceil(exc.bytes_over / row_bytes))
            continue
        if len(chunk) < X32.shape[0] and any(ep.has_state for ep in cm.entry_points):
            # Each image starts its streams from reset: the rows of one
            # stream must all be in one image.
            raise DoesNotFit(
                f"{target.name}: the {X32.shape[0]} rows of the stream of {cm.name} do not fit one image "
                f"(at most {len(chunk)} do); run the stream on fewer rows, or on a device that reads its inputs "
                "from a file (Cortex-M)",
                "flash", (X32.shape[0] - len(chunk)) * row_bytes,
            )
        output = target.run_image(elf, cache.scratch(f"{target.name}-run"), timeout)
        results.append(parse_output(output, cm.entry_points, len(chunk)))
        start += len(chunk)
    return {name: np.concatenate([r[name] for r in results]) for name in (ep.name for ep in cm.entry_points)}


def run_on_target(
    cm: Any, X32: np.ndarray, target: Any, cache: BuildCache, timeout: float, model_file: bool = False
) -> Dict[str, np.ndarray]:
    """{method: outputs} of ``cm``'s generated header on ``target``, or with
    ``model_file`` of its model file loaded by the runtime's loader."""
    target.check_tools()
    if X32.shape[0] == 0:
        return {ep.name: ep.empty(0) for ep in cm.entry_points}
    if isinstance(target, DeviceTarget):
        if target.input_mode == "stream":
            return _run_streamed(cm, X32, target, cache, timeout, model_file)
        return _run_chunked(cm, X32, target, cache, timeout, model_file)
    return run_host(cm, X32, target, cache.scratch("host"), timeout, model_file)

