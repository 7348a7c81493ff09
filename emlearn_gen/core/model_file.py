"""Model files: a model's packed tables as one binary file (docs/model-file.md).

The writer lays out a CModel's tables and host fields in its family's Layout
order, which is the one description of what goes into a file; the runtime's
loader (runtime/include/emlearn_gen/loader.hpp) maps them onto the family's
descriptor in the same order. Every number of the format (magic, version,
family ids, element types, entry-point ids) comes from the C++ runtime
through ``_runtime.model_file_ids()``, so it is written down once.

Reading goes through the same C++ loader a device runs
(``_runtime.load_model_file``), and the host model is then built from the
loaded tables by the family's host kernel, as for a converted model: the
results are the same bits.
"""

from __future__ import annotations

import json
import struct
import zlib
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from .. import _runtime
from .entry_points import EntryPoint
from .family import Family, Lowered, Packed
from .layout import Layout

#: The fixed header (little-endian): magic, file format version, family, real
#: type, table format, counts of entry points, fields and tables, three
#: reserved bytes, n_features, total size, metadata offset and size. Then the
#: entry-point records, fields and table directory (docs/model-file.md).
_HEADER = struct.Struct("<4sHBBHBBBBHIIII")
_ENTRY = struct.Struct("<BBBBI")
_TABLE = struct.Struct("<BBHII")
_ALIGN = 8


@lru_cache(maxsize=None)
def ids() -> Dict[str, Any]:
    """The numbers of the format, from the runtime (model_file.hpp)."""
    return _runtime.model_file_ids()


def _pad(out: bytearray, align: int) -> None:
    out.extend(b"\0" * (-len(out) % align))


def _element_code(ctype: str, real: str) -> int:
    name = "real64" if ctype == "real" and real == "float64" else ("float" if ctype == "real" else ctype)
    return int(ids()["element_types"][name])


def _entry_record(ep: EntryPoint) -> bytes:
    numbers = ids()
    flags = 0
    if ep.log_of is not None:
        if ep.log_of != "predict_proba":
            raise ValueError(f"entry point {ep.name}: a model file holds logarithms of predict_proba only")
        flags = int(numbers["log_of_proba"])
    entry_ids: Mapping[str, int] = numbers["entry_points"]
    if ep.name not in entry_ids:
        raise ValueError(f"entry point {ep.name!r} has no id in the model file format")
    return _ENTRY.pack(entry_ids[ep.name], numbers["outputs"][ep.output], flags, 0, ep.width)


def _labels_json(classes: Optional[np.ndarray]) -> Optional[Dict[str, Any]]:
    if classes is None:
        return None
    return {"dtype": classes.dtype.str if classes.dtype.kind != "O" else "object", "values": classes.tolist()}


def _entry_json(ep: EntryPoint) -> Dict[str, Any]:
    return {
        "name": ep.name, "output": ep.output, "width": ep.width, "vector": ep.vector, "doc": ep.doc,
        "result_dtype": ep.result_dtype, "log_of": ep.log_of, "score": ep.score,
    }


def check_saveable(cm: Any) -> None:
    """Raises ValueError, saying what to do instead, for a model a file
    cannot hold yet: a Pipeline that runs feature steps, a
    TransformedTargetRegressor's target, a leading column selection, or
    checks of the input rows that the family cannot rebuild from the file."""
    hint = "save a header instead (cm.save(path))"
    if cm.steps is not None:
        raise ValueError(f"{cm.estimator_name}: a model file cannot hold a Pipeline's feature steps yet; {hint}")
    if cm.target is not None:
        raise ValueError(f"{cm.estimator_name}: a model file cannot hold a TransformedTargetRegressor yet; {hint}")
    if cm.input_columns is not None:
        raise ValueError(
            f"{cm.estimator_name}: a model file cannot hold a model that selects its input columns yet; {hint}"
        )
    lowered: Lowered = cm._lowered
    if lowered.stream is not None:
        raise ValueError(
            f"{cm.estimator_name}: a model file cannot hold a stream entry point (convert's postprocess) yet; "
            f"{hint}, or save the model without postprocess and run emlearn_gen/postprocess.hpp's kernel "
            "on its outputs in the firmware"
        )
    if lowered.check_rows is not None and cm.family.file_row_checks(cm._tables, cm.entry_points) is None:
        raise ValueError(
            f"{cm.estimator_name}: this model checks its input values beyond NaN and infinity "
            f"(as scikit-learn does), which a model file cannot carry yet; {hint}"
        )


def model_file_bytes(cm: Any) -> bytes:
    """The model file of ``cm``. Same model, same bytes."""
    check_saveable(cm)
    family: Family = cm.family
    layout: Layout = family.layout
    packed: Packed = cm._tables
    numbers = ids()
    entries = list(cm.entry_points)
    fields = [int(packed.fields[f.name]) for f in layout.host_fields()]
    if len(entries) > numbers["max_entries"] or len(fields) > numbers["max_fields"] or (
        len(layout.tables) > numbers["max_tables"]
    ):
        raise ValueError(f"{cm.estimator_name}: more entry points, fields or tables than a model file holds")
    metadata = json.dumps(_metadata(cm), sort_keys=True, separators=(",", ":")).encode("utf-8")

    out = bytearray(_HEADER.size)
    for ep in entries:
        out += _entry_record(ep)
    for value in fields:
        out += struct.pack("<I", value)
    directory_at = len(out)
    directory_end = directory_at + _TABLE.size * len(layout.tables)
    out += bytes(directory_end - directory_at)  # the directory, filled in once the tables are placed
    records = _append_tables(out, layout, packed)
    out[directory_at:directory_end] = b"".join(records)
    _pad(out, _ALIGN)
    metadata_at = len(out)
    out += metadata
    _pad(out, 4)
    total = len(out) + 4
    if total > 0xFFFFFFFF:
        raise ValueError(f"{cm.estimator_name}: the model's tables exceed the 4 GiB a model file can hold")
    out[: _HEADER.size] = _HEADER.pack(
        numbers["magic"], numbers["version"], numbers["families"][family.name], numbers["reals"][packed.real],
        family.format_version, len(entries), len(fields), len(layout.tables), 0, 0,
        int(cm._lowered.n_features), total, metadata_at, len(metadata),
    )
    out += struct.pack("<I", zlib.crc32(bytes(out)) & 0xFFFFFFFF)
    return bytes(out)


def _append_tables(out: bytearray, layout: Layout, packed: Packed) -> List[bytes]:
    """Appends the layout's tables to ``out``, each 8-byte aligned and
    little-endian, and returns their directory records."""
    records = []
    for table in layout.tables:
        array = np.ascontiguousarray(packed.tables[table.name])
        _pad(out, _ALIGN)
        records.append(_TABLE.pack(_element_code(table.ctype, packed.real), 0, 0, len(out), array.size))
        out += array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return records


def _metadata(cm: Any) -> Dict[str, Any]:
    """What the host needs beyond the tables: scikit-learn's labels, names
    and shapes. Devices skip it; the CRC covers it."""
    lowered: Lowered = cm._lowered
    names = getattr(cm, "feature_names_in_", None)
    return {
        "name": cm.name,
        "estimator": cm.estimator_name,
        "family": cm.family.name,
        "task": lowered.task,
        "n_features": lowered.n_features,
        "classes": _labels_json(lowered.classes),
        "n_outputs": lowered.n_outputs,
        "label_dtype": lowered.label_dtype,
        "allow_nan": lowered.allow_nan,
        "feature_names": None if names is None else [str(n) for n in names],
        "options": [list(item) for item in lowered.options],
        "entry_points": [_entry_json(ep) for ep in lowered.entry_points],
        "versions": dict(cm._versions),
    }


def file_program(data: bytes) -> Tuple[Dict[str, int], int]:
    """({entry point name: id}, the most scratch bytes any entry point of
    the file needs), as the runtime's loader computes them: what a program
    running the file with model_run needs (testing/harness.py)."""
    loaded = _runtime.load_model_file(bytes(data))
    return dict(ids()["entry_points"]), max([int(v) for v in loaded["scratch"].values()] + [0])


def _bad(problem: str) -> ValueError:
    return ValueError(f"not a loadable model file: {problem}")


def load(data: bytes) -> Any:
    """A CModel of the model file ``data``, loaded through the runtime's
    model_load; ValueError naming the problem for a file it refuses."""
    from ..families import REGISTRY
    from ..model import CModel

    loaded = _runtime.load_model_file(bytes(data))  # every device check, or ValueError
    numbers = ids()
    family = _family_of(REGISTRY.families, numbers["families"], loaded["family"])
    try:
        meta = json.loads(bytes(loaded["metadata"]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _bad("its metadata is not JSON: write the file again with emlearn-gen") from None
    if not isinstance(meta, dict) or meta.get("family") != family.name:
        raise _bad("its metadata does not describe its family")
    real = "float64" if loaded["real"] == numbers["reals"]["float64"] else "float32"
    layout = family.layout
    tables = {t.name: _frozen(a) for t, a in zip(layout.tables, loaded["tables"])}
    fields = {f.name: int(v) for f, v in zip(layout.host_fields(), loaded["fields"])}
    packed = Packed(tables=tables, fields=fields, real=real)
    entry_points = _entry_points(meta, loaded["entries"])
    try:
        classes = _labels(meta.get("classes"))
        task = str(meta["task"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(f"its metadata is damaged ({exc!r})") from None
    names = meta.get("feature_names")
    lowered = Lowered(
        task=task,
        n_features=int(loaded["n_features"]),
        entry_points=entry_points,
        packed=packed,
        options=tuple((str(k), str(v)) for k, v in meta.get("options", [])),
        classes=classes,
        n_outputs=meta.get("n_outputs"),
        allow_nan=bool(meta.get("allow_nan", False)),
        check_rows=family.file_row_checks(packed, entry_points),
        label_dtype=str(meta.get("label_dtype", "int64")),
    )
    return CModel(
        name=str(meta.get("name", "model")), family=family, estimator_name=str(meta.get("estimator", "model")),
        lowered=lowered, versions=dict(meta.get("versions", {})),
        feature_names=None if names is None else np.asarray(names, dtype=object), from_file=True,
    )


def _family_of(families: Tuple[Family, ...], family_ids: Mapping[str, int], number: int) -> Family:
    for family in families:
        if family_ids.get(family.name) == number:
            return family
    raise _bad(f"family {number} is not one of this package's")


def _entry_points(meta: Mapping[str, Any], records: List[Tuple[int, int, int, int]]) -> Tuple[EntryPoint, ...]:
    """The entry points as the metadata describes them, checked against the
    records the loader checked."""
    try:
        described = [EntryPoint(**item) for item in meta.get("entry_points", [])]
        same = [_entry_record(ep) for ep in described] == [_ENTRY.pack(i, k, f, 0, w) for i, k, f, w in records]
    except (TypeError, ValueError) as exc:
        raise _bad(f"its metadata's entry points are damaged ({exc})") from None
    if not same:
        raise _bad("its metadata's entry points differ from its entry-point records")
    return tuple(described)


def _labels(value: Optional[Mapping[str, Any]]) -> Optional[np.ndarray]:
    if value is None:
        return None
    dtype = object if value["dtype"] == "object" else np.dtype(value["dtype"])
    labels = np.array(value["values"], dtype=dtype)
    labels.flags.writeable = False
    return labels


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
