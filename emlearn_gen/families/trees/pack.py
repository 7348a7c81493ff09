"""TreeEnsemble IR -> the bit-packed tables read by runtime/tree_ensemble.hpp.

See the layout comment at the top of tree_ensemble.hpp; this module is its
only writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections import defaultdict, deque
from typing import Deque, Dict, List, Optional, Tuple, Union

import numpy as np

from .ir import BOOST_LINKS, Tree, TreeEnsemble
from ...core.bits import bits_for, pack_fields, packed_size, unpack_fields, word_bits_for

FLAG_LEFT_LEAF = 1
FLAG_RIGHT_LEAF = 2
FLAG_MISSING_LEFT = 4
FLAG_BITS = 3

FLOAT32_MAX = float(np.finfo(np.float32).max)

REAL_DTYPES = {"float32": np.float32, "float64": np.float64}


def round_down_to_float32(threshold: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 threshold.

    For float32 inputs x, ``x <= t`` in float64 (what scikit-learn does) and
    ``x <= round_down_to_float32(t)`` in float32 always agree. A threshold
    of -0 becomes +0, which splits every value as -0 does, so that
    non-negative thresholds are exactly those without their sign bit
    (PackedForest.nonnegative_thresholds).
    """
    t = np.asarray(threshold, dtype=np.float64)
    with np.errstate(over="ignore"):
        f = t.astype(np.float32)
    too_big = f.astype(np.float64) > t
    f[too_big] = np.nextafter(f[too_big], np.float32(-np.inf))
    f[f == 0] = 0.0
    return f


@dataclass(frozen=True)
class PackedForest:
    """Tables and layout of a packed tree ensemble (runtime ``forest<Real>``)."""

    nodes: np.ndarray  # uint8 bit string of n_nodes records, padded
    thresholds: np.ndarray  # float32
    leaves: np.ndarray  # real_dtype, shape (n_leaves, leaf_width): the leaf rows
    leaf_values: np.ndarray  # real_dtype: the runtime's `leaves` table (rows, or distinct values)
    leaf_codes: np.ndarray  # uint8 bit string of value_bits indices into leaf_values, padded
    roots: np.ndarray  # uint8 bit string of n_trees fields, padded
    n_nodes: int
    n_trees: int
    n_features: int
    leaf_width: int
    feature_bits: int
    ref_bits: int
    thr_bits: int
    root_bits: int
    value_bits: int  # 0: leaf_values holds the rows themselves
    word_bits: int
    real: str  # "float32" or "float64"
    # Outlier detectors: the sum below which a sample is an outlier (real),
    # and the score's scale and offset (float); empty for other models.
    real_constants: np.ndarray = field(default_factory=lambda: np.zeros(0))
    float_constants: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    boost: int = 0  # boosted models: their link (ir.BOOST_LINKS); 0: a mean
    # Categorical features (empty without): every categorical feature's
    # sorted category values, where each feature's start (n_features + 1
    # fields of cat_start_bits) and the bitsets of the categorical splits.
    cat_values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    cat_starts: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.uint8))
    cat_bits: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.uint8))
    cat_start_bits: int = 0
    # Sparse rows (tree_class_bits > 0): leaves hold one value per row and
    # packed tree t adds it to sum tree_classes[t] (n_trees fields).
    tree_classes: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.uint8))
    tree_class_bits: int = 0
    # Class votes (leaf_class_bits > 0): every leaf row is one-hot, and
    # leaf_classes holds its class (n_leaves fields) in place of
    # leaf_values and leaf_codes, which are empty.
    leaf_classes: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.uint8))
    leaf_class_bits: int = 0
    # Whole-byte records (record_bytes > 0): record i in bytes
    # [i * record_bytes, (i + 1) * record_bytes); 0: bit-packed records.
    record_bytes: int = 0
    # Entry rows (entry_class_bits > 0): each leaf row as its nonzero values
    # only, entries of value_bits + entry_class_bits + 1 bits (value index,
    # class, last-of-row flag) in leaf_entries; row i starts at entry
    # leaf_starts[i] (n_leaves fields of start_bits). leaf_codes is empty.
    leaf_starts: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.uint8))
    leaf_entries: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.uint8))
    entry_class_bits: int = 0
    start_bits: int = 0
    # 1 where no threshold has its sign bit set: the walk then compares the
    # bits of values and thresholds as integers.
    nonnegative_thresholds: int = 0
    # Entry rows of float64 values in [0, 1] in a model of several trees: per
    # value of leaf_values, its summand in forest_label's approximate sums
    # (approximate_summands); empty otherwise.
    leaf_fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))

    @property
    def record_bits(self) -> int:
        return self.feature_bits + FLAG_BITS + self.ref_bits + self.thr_bits

    def records(self) -> np.ndarray:
        """The n_nodes split records as uint64, from either layout."""
        if self.record_bytes:
            return unpack_fields(self.nodes, 8 * self.record_bytes, self.n_nodes)
        return unpack_fields(self.nodes, self.record_bits, self.n_nodes)

    def fields(self) -> Dict[str, np.ndarray]:
        """The fields of the n_nodes records, whatever their widths:
        feature, flags, ref and thr (zeros where thresholds are one per
        node). Two packings of one model route alike where these are equal."""
        records = self.records()
        out = {}
        shift = 0
        for name, bits in (("feature", self.feature_bits), ("flags", FLAG_BITS), ("ref", self.ref_bits),
                           ("thr", self.thr_bits)):
            out[name] = (records >> np.uint64(shift)) & np.uint64((1 << bits) - 1)
            shift += bits
        return out

    @property
    def n_leaves(self) -> int:
        return int(self.leaves.shape[0])

    @property
    def table_bytes(self) -> int:
        """Bytes of model tables, padding included."""
        codes = self.leaf_codes.nbytes if self.value_bits else 0
        categorical = self.cat_values.nbytes + self.cat_starts.nbytes + self.cat_bits.nbytes if self.cat_values.size else 0
        classes = self.tree_classes.nbytes if self.tree_class_bits else 0
        votes = self.leaf_classes.nbytes if self.leaf_class_bits else 0
        entries = (self.leaf_starts.nbytes + self.leaf_entries.nbytes + self.leaf_fixed.nbytes
                   if self.entry_class_bits else 0)
        if self.entry_class_bits:
            codes = 0
        return int(
            self.nodes.nbytes + self.thresholds.nbytes + self.leaf_values.nbytes + codes + self.roots.nbytes
            + self.real_constants.nbytes + self.float_constants.nbytes + categorical + classes + votes + entries
        )


#: Float sums of votes count exactly up to 2**24 trees (forest_vote_shares).
MAX_VOTING_TREES = 2**24


def _vote_classes(ir: TreeEnsemble, rows: np.ndarray) -> Optional[np.ndarray]:
    """Each leaf row's class when the model can count votes: a forest
    classifier (no boosting, no outlier scores) whose every leaf row is
    one-hot, 1.0 for one class and +0.0 for the others (full-depth trees:
    every leaf pure). Summed in float, such rows give the exact vote counts,
    so integer counts give the very same sums. Else None."""
    if ir.task != "classifier" or ir.boost is not None or ir.outlier is not None:
        return None
    if rows.shape[0] == 0 or len(ir.trees) > MAX_VOTING_TREES:
        return None
    one = rows.dtype.type(1.0)
    is_one = rows == one
    # Zeros told apart by their bits: a -0.0 is not a vote's +0.0.
    uint = np.uint32 if rows.dtype == np.float32 else np.uint64
    is_plus_zero = rows.view(uint) == 0
    if not np.all(is_one | is_plus_zero) or not np.all(is_one.sum(axis=1) == 1):
        return None
    return np.argmax(is_one, axis=1).astype(np.uint64)


def _leaf_value_table(rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray, int]:
    """(values, codes, value_bits): rows as indices into their distinct
    values, or the rows themselves (value_bits 0) when that is not smaller.

    Values are told apart by their bits, so -0.0 and 0.0 stay distinct."""
    flat = rows.reshape(-1)
    direct = (flat, np.zeros(0, dtype=np.uint64), 0)
    if flat.size < 2:
        return direct
    uint = np.uint32 if flat.dtype == np.float32 else np.uint64
    distinct_bits, codes = np.unique(flat.view(uint), return_inverse=True)
    value_bits = max(1, bits_for(len(distinct_bits) - 1))
    word_bytes = word_bits_for(value_bits) // 8
    coded = distinct_bits.size * flat.itemsize + packed_size(flat.size, value_bits, word_bytes)
    if coded >= flat.nbytes or flat.size * value_bits >= 2**32:
        return direct
    return distinct_bits.view(flat.dtype), codes.astype(np.uint64).reshape(-1), value_bits


#: Entry rows may make the leaf tables this much larger than rows of every
#: value (they save the kernel a code read and a zero test per value).
ENTRY_ROWS_BUDGET = 0.10


@dataclass(frozen=True)
class _EntryRows:
    """Leaf rows as their nonzero values only (runtime entry rows)."""

    values: np.ndarray  # the distinct values the entries index
    entries: np.ndarray  # uint64: value index | class << value_bits | last << (value_bits + class_bits)
    starts: np.ndarray  # uint64: each row's first entry
    value_bits: int
    class_bits: int
    start_bits: int

    @property
    def entry_bits(self) -> int:
        return self.value_bits + self.class_bits + 1

    def table_bytes(self) -> int:
        word_bytes = max(word_bits_for(self.entry_bits), word_bits_for(self.start_bits)) // 8
        return (self.values.nbytes + packed_size(self.entries.size, self.entry_bits, word_bytes)
                + packed_size(self.starts.size, self.start_bits, word_bytes))


def _whole_bytes(bits: int, widest: int = 16) -> int:
    """The width of whole bytes (at most `widest` bits) that holds `bits`
    bits, which the runtime reads without a shift (read_field), or `bits`
    when it needs more."""
    whole = 8 * max(1, (bits + 7) // 8)
    return whole if whole <= widest else bits


def _entry_rows(rows: np.ndarray, whole_bytes: bool = False) -> _EntryRows:
    """Each row's nonzero values, in class order, as (value index, class)
    entries, the row's last flagged. A zero of either sign is left out: the
    runtime's sums start at +0 and never become -0, so adding a zero changes
    none of them (add_leaf_value). A row of zeros only keeps its first
    value, so that every row has an entry to flag. With `whole_bytes`,
    entries and starts take one or two whole bytes where they fit (the
    value index field widened)."""
    uint = np.uint32 if rows.dtype == np.float32 else np.uint64
    bits = np.ascontiguousarray(rows).view(uint)
    keep = (bits << uint(1)) != 0
    keep[~keep.any(axis=1), 0] = True
    row_of, class_of = np.nonzero(keep)  # row-major: rows in order, classes ascending
    distinct_bits, codes = np.unique(bits[row_of, class_of], return_inverse=True)
    counts = keep.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.uint64)
    last = np.zeros(row_of.size, dtype=np.uint64)
    last[np.cumsum(counts) - 1] = 1
    value_bits = max(1, bits_for(len(distinct_bits) - 1))
    class_bits = max(1, bits_for(rows.shape[1] - 1))
    start_bits = bits_for(int(starts[-1]))
    if whole_bytes:
        value_bits = _whole_bytes(value_bits + class_bits + 1) - class_bits - 1
        start_bits = _whole_bytes(start_bits)
    entries = (codes.astype(np.uint64).reshape(-1) | (class_of.astype(np.uint64) << np.uint64(value_bits))
               | (last << np.uint64(value_bits + class_bits)))
    return _EntryRows(distinct_bits.view(rows.dtype), entries, starts, value_bits, class_bits, start_bits)


def _use_entry_rows(rows: np.ndarray, values: np.ndarray, codes: np.ndarray, value_bits: int) -> Optional[_EntryRows]:
    """Entry rows for rows of several values when their tables stay within
    ENTRY_ROWS_BUDGET of the rows of every value (values and codes): of
    whole bytes where those do, else bit-packed; else None."""
    if rows.shape[0] == 0 or rows.shape[1] < 2:
        return None
    dense = values.nbytes + (packed_size(codes.size, value_bits, word_bits_for(value_bits) // 8) if value_bits else 0)
    for whole_bytes in (True, False):
        sparse = _entry_rows(rows, whole_bytes)
        fits = sparse.entry_bits <= 32 and sparse.start_bits <= 31 and sparse.entries.size * sparse.entry_bits < 2**32
        if fits and sparse.table_bytes() <= (1.0 + ENTRY_ROWS_BUDGET) * dense:
            return sparse
    return None


class _LeafTable:
    """Distinct leaf rows, laid out so that every sibling pair of leaves
    (a node whose children are both leaves) is two adjacent rows.

    Requests are collected first; layout() then chains the pairs into walks
    (a, b), (b, c), ... so that pairs share rows: a forest of pure leaves over
    k classes needs about k * k rows instead of 2 * k * k.
    """

    def __init__(self) -> None:
        self._rows: Dict[bytes, np.ndarray] = {}
        self._pairs: Dict[Tuple[bytes, bytes], None] = {}
        self._singles: Dict[bytes, None] = {}

    def _key(self, row: np.ndarray) -> bytes:
        key = row.tobytes()
        self._rows.setdefault(key, row)
        return key

    def request_pair(self, left: np.ndarray, right: np.ndarray) -> Tuple[bytes, bytes]:
        pair = (self._key(left), self._key(right))
        self._pairs.setdefault(pair)
        return pair

    def request_single(self, row: np.ndarray) -> bytes:
        key = self._key(row)
        self._singles.setdefault(key)
        return key

    def layout(self) -> Tuple[List[np.ndarray], Dict[Tuple[bytes, bytes], int], Dict[bytes, int]]:
        """(rows, index of each pair's first row, index of each single row)."""
        successors: Dict[bytes, Deque[bytes]] = defaultdict(deque)
        for a, b in self._pairs:
            successors[a].append(b)
        sequence: List[bytes] = []
        pair_at: Dict[Tuple[bytes, bytes], int] = {}
        for a, b in self._pairs:  # first-seen order keeps the output byte-stable
            if (a, b) in pair_at:
                continue
            current = a
            sequence.append(current)
            while successors[current]:
                following = successors[current].popleft()
                pair_at[(current, following)] = len(sequence) - 1
                sequence.append(following)
                current = following
        first: Dict[bytes, int] = {}
        for index, key in enumerate(sequence):
            first.setdefault(key, index)
        for key in self._singles:
            if key not in first:
                first[key] = len(sequence)
                sequence.append(key)
        return [self._rows[key] for key in sequence], pair_at, first


#: A categorical node's thresholds entry holds its bitset's bit position in
#: cat_bits as a float32, exact for integers below 2**24.
MAX_CAT_BIT_POSITION = 2**24


class _CategorySplits:
    """The bitsets of categorical splits, one bit per category of the
    node's feature (n_categories bits, bit c: code c goes left), each
    distinct (feature, bitset) stored once."""

    def __init__(self, categories: Tuple[Optional[np.ndarray], ...]) -> None:
        self.categories = categories
        self.bits: List[np.ndarray] = []
        self._length = 0
        self._at: Dict[Tuple[int, bytes], int] = {}

    def is_categorical(self, feature: int) -> bool:
        return bool(self.categories) and self.categories[feature] is not None

    def position(self, feature: int, cat_left: np.ndarray) -> int:
        """Bit position of the node's bitset in cat_bits."""
        row = np.asarray(cat_left[: len(self.categories[feature])], dtype=bool)
        key = (feature, np.packbits(row).tobytes())
        if key not in self._at:
            if self._length + row.size > MAX_CAT_BIT_POSITION:
                raise ValueError("the model's categorical splits need more than 2**24 bits of bitsets")
            self._at[key] = self._length
            self.bits.append(row)
            self._length += row.size
        return self._at[key]

    def tables(self, word_bytes: int) -> dict:
        """cat_values, cat_starts, cat_bits and cat_start_bits of the packed model."""
        if not self.categories:
            return {}
        counts = [0 if c is None else len(c) for c in self.categories]
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint64)
        start_bits = bits_for(int(starts[-1]))
        values = [np.asarray(c, dtype=np.float32) for c in self.categories if c is not None]
        bits = np.concatenate(self.bits).astype(np.uint64) if self.bits else np.zeros(0, dtype=np.uint64)
        return {
            "cat_values": np.concatenate(values).astype(np.float32),
            "cat_starts": pack_fields(starts, start_bits, word_bytes),
            "cat_bits": pack_fields(bits, 1, word_bytes),
            "cat_start_bits": start_bits,
        }


def _one_sum_trees(ir: TreeEnsemble) -> Optional[List[Tuple[Tree, int]]]:
    """The trees as (tree, the one sum it adds to) when every tree adds to
    one sum only (multi-class boosting: a tree per class and iteration), so
    that leaf rows can be single values; else None (rows of every sum).

    A value adds to a sum unless it is +0.0 (adding +0.0 changes no sum but
    -0.0, which the scikit-learn sums these mirror never add to). A
    single-leaf tree adding to several sums (the init or baseline row) is
    split into one single-leaf tree per sum, in order: each sum still gets
    its additions in scikit-learn's order."""
    if ir.boost is None or ir.leaf_width < 2:
        return None
    out: List[Tuple[Tree, int]] = []
    for tree in ir.trees:
        leaf_values = np.ascontiguousarray(tree.value[tree.is_leaf], dtype=np.float64)
        used = np.flatnonzero(np.any(leaf_values.view(np.uint64) != 0, axis=0)).tolist()
        if len(used) > 1 and tree.n_nodes > 1:
            return None
        out.extend((tree, k) for k in (used or [0]))
    return out


def check_leaf_range(ir: TreeEnsemble) -> None:
    """Every leaf value fits float32: the header's outputs are floats, and a
    mean of values that fit cannot leave float32's range either."""
    for tree_index, tree in enumerate(ir.trees):
        leaf_values = tree.value[tree.is_leaf]
        if np.any(np.abs(leaf_values) > FLOAT32_MAX):
            raise ValueError(
                f"tree {tree_index} has a leaf value of {np.abs(leaf_values).max():.3g}, beyond "
                "float32's range (3.4e38), so the header's float outputs cannot hold it: "
                "rescale the targets before fitting"
            )


def float32_sum_bound(ir: TreeEnsemble) -> float:
    """An upper bound on |sum of leaf values over the trees| as the runtime
    computes it in float32, over every input and output.

    Per output, the exact sum is at most the sum over trees of the largest
    |leaf value| of each tree. Rounding each leaf to float32 and each of the
    T - 1 additions multiplies it by at most (1 + 2**-24) each; one more factor
    covers the float64 evaluation of this bound itself.
    """
    worst = np.zeros(ir.leaf_width, dtype=np.float64)
    for tree in ir.trees:
        worst += np.abs(tree.value[tree.is_leaf]).max(axis=0)
    return float(worst.max()) * (1.0 + 2.0**-24) ** (len(ir.trees) + 1)


def float32_sums_fit(ir: TreeEnsemble) -> bool:
    """True when float32 sums of leaf values cannot overflow (see float32_sum_bound)."""
    return float32_sum_bound(ir) <= FLOAT32_MAX


#: Whole-byte records may make the model's tables this much larger than
#: bit-packed ones (they save the kernel a multiply, a variable shift and a
#: mask per node visited).
WHOLE_BYTE_BUDGET = 0.10


def choose_record_bytes(n_nodes: int, record_bits: int, other_bytes: int, word_bits: int,
                        baseline_other_bytes: Optional[int] = None) -> int:
    """Bytes per record, or 0 for bit-packed records: the narrowest of 1, 2,
    4 or 8 bytes (one load of a machine type), else the fewest whole bytes,
    that holds a record and keeps the tables (nodes plus `other_bytes`)
    within WHOLE_BYTE_BUDGET of their size with bit-packed records and, where
    given, the other tables as `baseline_other_bytes` (their fields
    bit-packed, before whole_byte_field_bits widened them, and leaf rows of
    every value, before entry rows and their summands replaced them): one
    budget for every table that trades bytes for speed."""
    if n_nodes == 0 or record_bits > 64:
        return 0
    baseline = other_bytes if baseline_other_bytes is None else baseline_other_bytes
    bitpacked_word_bytes = max(word_bits, word_bits_for(record_bits) if record_bits + 7 <= 64 else 64) // 8
    budget = (1.0 + WHOLE_BYTE_BUDGET) * (baseline + packed_size(n_nodes, record_bits, bitpacked_word_bytes))
    fewest = (record_bits + 7) // 8
    for candidate in (1 << (fewest - 1).bit_length(), fewest):
        if other_bytes + n_nodes * candidate <= budget:
            return candidate
    return 0


#: Share of the tables that small per-tree and per-leaf tables (roots, vote
#: classes) may grow by when their fields are widened to whole bytes, which
#: the kernels read without a variable shift.
WHOLE_BYTE_FIELD_BUDGET = 0.01


def whole_byte_field_bits(bits: int, count: int, table_bytes: int) -> int:
    """`bits` rounded up to whole bytes (at most 24, so that a 32-bit word
    still reads the field) where the `count` fields then grow the tables
    (`table_bytes`) by at most WHOLE_BYTE_FIELD_BUDGET; else `bits`."""
    whole = _whole_bytes(bits, widest=24)
    if bits == 0 or whole == bits:
        return bits
    grown = packed_size(count, whole, 4) - packed_size(count, bits, 4)
    return whole if grown <= WHOLE_BYTE_FIELD_BUDGET * table_bytes else bits


def byte_feature_bits(feature_bits: int, record_bits: int, record_bytes: int) -> int:
    """The feature field's width in records of `record_bytes` whole bytes:
    8 where it is narrower and the record's unused bits make room, so that
    the field is the record's first byte, which x86 extracts with one
    zero-extension in place of a copy and a mask (the Cortex-M4F's
    extraction is one instruction either way; the Cortex-M0 pays for flags
    moved above bit 7 at some tests); else `feature_bits`. The records take
    as many bytes either way."""
    if record_bytes and feature_bits < 8 and record_bits - feature_bits + 8 <= 8 * record_bytes:
        return 8
    return feature_bits


def _whole_byte_records(records: np.ndarray, record_bytes: int) -> np.ndarray:
    """Records of record_bytes bytes each, little-endian, then the zero bytes
    that the runtime's widest read of the last one reaches (read_bytes_span:
    record_bytes rounded up to a power of two)."""
    span = 1 << (record_bytes - 1).bit_length()
    data = pack_fields(records, 8 * record_bytes, 1)
    return np.concatenate([data, np.zeros(span - record_bytes, dtype=np.uint8)])


def pack_trees(ir: TreeEnsemble, real: str = "float32") -> PackedForest:
    """Packs a validated TreeEnsemble into runtime tables."""
    if real not in REAL_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(REAL_DTYPES)}, got {real!r}")
    real_dtype = REAL_DTYPES[real]

    features: List[int] = []
    flags: List[int] = []
    # A node's ref is a right-child offset (int), a leaf pair or a single leaf
    # (resolved once the leaf table is laid out).
    refs: List[Union[int, Tuple[bytes, bytes], bytes]] = []
    thresholds: List[np.ndarray] = []
    roots: List[Union[int, bytes]] = []
    leaves = _LeafTable()
    category_splits = _CategorySplits(ir.categories)

    check_leaf_range(ir)
    if real == "float32" and not float32_sums_fit(ir):
        raise ValueError(
            f"with dtype='float32' the sum of leaf values over the model's {len(ir.trees)} trees "
            f"can reach {float32_sum_bound(ir):.3g}, beyond float32's range (3.4e38), and would "
            "overflow to inf before the division by the number of trees: use dtype='float64', "
            "whose sums cannot overflow (the default, dtype=None, picks it for such models)"
        )

    one_sum = _one_sum_trees(ir)
    row_width = 1 if one_sum is not None else ir.leaf_width
    packed_trees = one_sum if one_sum is not None else [(tree, 0) for tree in ir.trees]
    for tree, column in packed_trees:
        values = (tree.value[:, [column]] if one_sum is not None else tree.value).astype(real_dtype)
        thr32 = round_down_to_float32(tree.threshold)
        left, right = tree.children_left, tree.children_right
        is_leaf = tree.is_leaf
        if is_leaf[0]:
            roots.append(leaves.request_single(values[0]))
            continue
        base = len(features)
        roots.append(base)
        # Pre-order numbering of inner nodes: node, left subtree, right subtree.
        order: List[int] = []
        stack = [0]
        while stack:
            node = stack.pop()
            order.append(node)
            if not is_leaf[right[node]]:
                stack.append(int(right[node]))
            if not is_leaf[left[node]]:
                stack.append(int(left[node]))
        position = {node: base + i for i, node in enumerate(order)}
        for node in order:
            l, r = int(left[node]), int(right[node])
            lleaf, rleaf = bool(is_leaf[l]), bool(is_leaf[r])
            flag = (FLAG_LEFT_LEAF if lleaf else 0) | (FLAG_RIGHT_LEAF if rleaf else 0)
            if tree.missing_left[node]:
                flag |= FLAG_MISSING_LEFT
            if lleaf and rleaf:
                refs.append(leaves.request_pair(values[l], values[r]))
            elif lleaf:
                refs.append(leaves.request_single(values[l]))
            elif rleaf:
                refs.append(leaves.request_single(values[r]))
            else:
                refs.append(position[r] - position[node])
            features.append(int(tree.feature[node]))
            flags.append(flag)
            if category_splits.is_categorical(int(tree.feature[node])):
                thr32[node] = np.float32(category_splits.position(int(tree.feature[node]), tree.cat_left[node]))
        thresholds.append(thr32[order])

    n_nodes = len(features)
    leaf_rows, pair_at, single_at = leaves.layout()

    def resolve(ref: Union[int, Tuple[bytes, bytes], bytes]) -> int:
        if isinstance(ref, int):
            return ref
        return pair_at[ref] if isinstance(ref, tuple) else single_at[ref]

    ref_values = [resolve(ref) for ref in refs]
    roots = [root if isinstance(root, int) else n_nodes + single_at[root] for root in roots]

    feature_arr = np.asarray(features, dtype=np.uint64)
    flag_arr = np.asarray(flags, dtype=np.uint64)
    ref_arr = np.asarray(ref_values, dtype=np.uint64)
    thr_arr = np.concatenate(thresholds) if thresholds else np.zeros(0, dtype=np.float32)

    feature_bits = bits_for(ir.n_features - 1)
    ref_bits = bits_for(int(ref_arr.max()) if n_nodes else 0)
    base_bits = feature_bits + FLAG_BITS + ref_bits

    # Either every node carries its own float32 threshold, or it indexes a
    # table of the distinct ones (integer-valued features repeat thresholds a
    # lot); keep whichever is smaller.
    distinct, thr_index = np.unique(thr_arr, return_inverse=True)
    thr_bits_indexed = max(1, bits_for(len(distinct) - 1)) if n_nodes else 0
    inline_bytes = 4 * n_nodes + (n_nodes * base_bits + 7) // 8
    indexed_bytes = 4 * len(distinct) + (n_nodes * (base_bits + thr_bits_indexed) + 7) // 8
    if n_nodes and indexed_bytes < inline_bytes:
        thr_bits = thr_bits_indexed
        threshold_table = distinct.astype(np.float32)
        thr_field = thr_index.astype(np.uint64).reshape(-1)
    else:
        thr_bits = 0
        threshold_table = thr_arr.astype(np.float32)
        thr_field = np.zeros(n_nodes, dtype=np.uint64)

    record_bits = base_bits + thr_bits
    root_arr = np.asarray(roots, dtype=np.uint64)
    root_bits = bits_for(int(root_arr.max()))
    leaf_rows = np.ascontiguousarray(np.asarray(leaf_rows, dtype=real_dtype).reshape(-1, row_width))
    vote_classes = _vote_classes(ir, leaf_rows) if one_sum is None else None
    entry_rows: Optional[_EntryRows] = None
    if vote_classes is not None:
        leaf_values, leaf_codes, value_bits = np.zeros(0, dtype=real_dtype), np.zeros(0, dtype=np.uint64), 0
        leaf_class_bits = max(1, bits_for(ir.leaf_width - 1))
    else:
        leaf_values, leaf_codes, value_bits = _leaf_value_table(leaf_rows)
        leaf_class_bits = 0
        entry_rows = _use_entry_rows(leaf_rows, leaf_values, leaf_codes, value_bits) if one_sum is None else None
    # The leaf tables as rows of every value: the budget of the tables below
    # is over these, so that entry rows and their summands spend it too.
    compact_leaf_bytes = leaf_values.nbytes + (leaf_codes.size * value_bits) // 8
    leaf_fixed = np.zeros(0, dtype=np.int16)
    if entry_rows is not None:
        leaf_values, leaf_codes, value_bits = entry_rows.values, np.zeros(0, dtype=np.uint64), entry_rows.value_bits
        leaf_fixed = approximate_summands(leaf_values, len(packed_trees))
    entry_word_bits = max(word_bits_for(entry_rows.entry_bits), word_bits_for(entry_rows.start_bits)) if entry_rows else 32
    estimate = (threshold_table.nbytes + leaf_values.nbytes + (entry_rows.table_bytes() if entry_rows else 0)
                + (n_nodes * record_bits + leaf_codes.size * value_bits) // 8)
    packed_root_bits, packed_leaf_class_bits = root_bits, leaf_class_bits
    root_bits = whole_byte_field_bits(root_bits, len(roots), estimate)
    if leaf_class_bits:
        leaf_class_bits = whole_byte_field_bits(leaf_class_bits, len(vote_classes), estimate)
    start_bits = bits_for(sum(len(c) for c in ir.categories if c is not None)) if ir.categories else 0
    tree_class_bits = max(1, bits_for(ir.leaf_width - 1)) if one_sum is not None else 0
    other_word_bits = max(word_bits_for(root_bits), word_bits_for(value_bits), word_bits_for(start_bits),
                          word_bits_for(tree_class_bits), word_bits_for(leaf_class_bits), entry_word_bits)

    def other_tables(root_bits: int, leaf_class_bits: int, leaf_bytes: int) -> int:
        return (
            threshold_table.nbytes + leaf_bytes + len(roots) * root_bits // 8
            + (len(vote_classes) * leaf_class_bits // 8 if vote_classes is not None else 0)
            + 4 * len(ir.trees)
        )

    leaf_bytes = entry_rows.table_bytes() + leaf_fixed.nbytes if entry_rows else compact_leaf_bytes
    record_bytes = choose_record_bytes(n_nodes, record_bits, other_tables(root_bits, leaf_class_bits, leaf_bytes),
                                       other_word_bits,
                                       other_tables(packed_root_bits, packed_leaf_class_bits, compact_leaf_bytes))
    feature_bits = byte_feature_bits(feature_bits, record_bits, record_bytes)
    record_bits = feature_bits + FLAG_BITS + ref_bits + thr_bits
    records = (
        feature_arr
        | (flag_arr << np.uint64(feature_bits))
        | (ref_arr << np.uint64(feature_bits + FLAG_BITS))
        | (thr_field << np.uint64(feature_bits + FLAG_BITS + ref_bits))
    )
    if record_bytes:
        word_bits = max(other_word_bits, 32 if record_bytes <= 4 else 64)
        nodes = _whole_byte_records(records, record_bytes)
    else:
        word_bits = max(other_word_bits, word_bits_for(record_bits))
        nodes = pack_fields(records, record_bits, word_bits // 8)
    if n_nodes * max(record_bits, 8 * record_bytes) >= 2**32 or len(roots) * root_bits >= 2**32:
        raise ValueError("model tables exceed 512 MiB, the runtime's addressing limit")

    packed = PackedForest(
        nodes=nodes,
        thresholds=np.ascontiguousarray(threshold_table, dtype=np.float32),
        leaves=leaf_rows,
        leaf_values=np.ascontiguousarray(leaf_values),
        leaf_codes=pack_fields(leaf_codes, value_bits, word_bits // 8),
        roots=pack_fields(root_arr, root_bits, word_bits // 8),
        n_nodes=n_nodes,
        n_trees=len(packed_trees),
        n_features=ir.n_features,
        leaf_width=ir.leaf_width,
        feature_bits=feature_bits,
        ref_bits=ref_bits,
        thr_bits=thr_bits,
        root_bits=root_bits,
        value_bits=value_bits,
        word_bits=word_bits,
        real=real,
        record_bytes=record_bytes,
        nonnegative_thresholds=int(n_nodes > 0 and not np.signbit(threshold_table).any()),
        leaf_fixed=leaf_fixed,
        **_constant_tables(ir, real_dtype),
        boost=_boost_link(ir, real_dtype),
        **category_splits.tables(word_bits // 8),
        **_tree_class_table(one_sum, tree_class_bits, word_bits // 8),
        **_vote_table(vote_classes, leaf_class_bits, word_bits // 8),
        **_entry_tables(entry_rows, word_bits // 8),
    )
    return _read_only(packed)


def _entry_tables(rows: Optional[_EntryRows], word_bytes: int) -> dict:
    if rows is None:
        return {}
    return {
        "leaf_entries": pack_fields(rows.entries, rows.entry_bits, word_bytes),
        "leaf_starts": pack_fields(rows.starts, rows.start_bits, word_bytes),
        "entry_class_bits": rows.class_bits,
        "start_bits": rows.start_bits,
    }


#: Most trees for forest_label's approximate sums (max_approximate_trees).
MAX_APPROXIMATE_TREES = 2**17


def approximate_summands(values: np.ndarray, n_trees: int) -> np.ndarray:
    """The summands of forest_label's approximate sums (tree_ensemble.hpp,
    approximation<true>::label): floor(v 2^14) of each float64 value v in
    [0, 1], exact (at most 2^14, an int16). Empty where a value lies outside
    [0, 1] (or is -0), the values are not float64, or the tree count is
    outside 2 to MAX_APPROXIMATE_TREES: no approximation then."""
    if values.dtype != np.float64 or not 2 <= n_trees <= MAX_APPROXIMATE_TREES or values.size == 0:
        return np.zeros(0, dtype=np.int16)
    if np.signbit(values).any() or (values > 1.0).any() or np.isnan(values).any():
        return np.zeros(0, dtype=np.int16)
    return np.floor(values * 16384.0).astype(np.int16)


def _tree_class_table(one_sum: Optional[List[Tuple[Tree, int]]], bits: int, word_bytes: int) -> dict:
    if one_sum is None:
        return {}
    classes = np.array([k for _, k in one_sum], dtype=np.uint64)
    return {"tree_classes": pack_fields(classes, bits, word_bytes), "tree_class_bits": bits}


def _vote_table(classes: Optional[np.ndarray], bits: int, word_bytes: int) -> dict:
    if classes is None:
        return {}
    return {"leaf_classes": pack_fields(classes, bits, word_bytes), "leaf_class_bits": bits}


def _boost_link(ir: TreeEnsemble, real_dtype: type) -> int:
    if ir.boost is None:
        return 0
    if real_dtype is not np.float64:
        raise ValueError("gradient boosting sums its raw scores in float64 (scikit-learn's); use dtype='float64'")
    return BOOST_LINKS[ir.boost.link]


def _constant_tables(ir: TreeEnsemble, real_dtype: type) -> dict:
    if ir.boost is not None and ir.boost.link == "median":
        return {
            "real_constants": np.array(ir.boost.weights, dtype=real_dtype),
            "float_constants": np.zeros(0, dtype=np.float32),
        }
    if ir.boost is not None and ir.boost.link == "samme":
        return {
            "real_constants": np.array([ir.boost.weight_sum], dtype=real_dtype),
            "float_constants": np.zeros(0, dtype=np.float32),
        }
    return _outlier_tables(ir, real_dtype)


def _outlier_tables(ir: TreeEnsemble, real_dtype: type) -> dict:
    """The outlier score's constants: score_samples = -exp(-D * scale) with
    scale = ln 2 / denominator (2 ** -x as e ** (-x ln 2)), rounded to float."""
    if ir.outlier is None:
        return {"real_constants": np.zeros(0, dtype=real_dtype), "float_constants": np.zeros(0, dtype=np.float32)}
    if real_dtype is not np.float64:
        raise ValueError("an isolation forest sums its path lengths in float64; use dtype='float64'")
    scale = np.log(2.0) / ir.outlier.denominator
    return {
        "real_constants": np.array([ir.outlier.depth_threshold], dtype=np.float64),
        "float_constants": np.array([scale, ir.outlier.offset], dtype=np.float32),
    }


def _read_only(packed: PackedForest) -> PackedForest:
    """``packed`` with every table read-only: the header and the host runtime
    are made from these tables, so a change after packing would make them
    disagree (writing to one raises ValueError; np.array(table) gives a
    writable copy)."""
    for name in ("nodes", "thresholds", "leaves", "leaf_values", "leaf_codes", "roots", "real_constants",
                 "float_constants", "cat_values", "cat_starts", "cat_bits", "tree_classes", "leaf_classes",
                 "leaf_starts", "leaf_entries"):
        getattr(packed, name).flags.writeable = False
    return packed
