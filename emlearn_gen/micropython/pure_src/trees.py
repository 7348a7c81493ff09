# Joined after common.py (emlearn_gen.micropython.pure), whose names it uses.
# ruff: noqa: F821
# ---- trees (tree_ensemble.hpp): decision trees and forests of them ----


def _bits(table, pos, width):
    # The width-bit field at bit pos of a little-endian bit string.
    if width == 0:
        return 0
    first = pos >> 3
    last = (pos + width + 7) >> 3
    return (int.from_bytes(table[first:last], 'little') >> (pos & 7)) & ((1 << width) - 1)


def _fields_of(table, count, width, code):
    # count fields of width bits as an array.
    out = array.array(code, [0] * count)
    for i in range(count):
        out[i] = _bits(table, i * width, width)
    return out


class _Trees:
    NAME = 'trees'
    FORMAT = 7
    TABLES = ('B', 'f', 'r', 'B', 'B', 'r', 'f', 'f', 'B', 'B', 'B', 'B', 'B', 'B', 'h')
    FIELDS = ('n_nodes', 'n_leaves', 'n_trees', 'n_features', 'leaf_width', 'feature_bits', 'ref_bits',
              'thr_bits', 'root_bits', 'value_bits', 'word_bits', 'real_bits', 'outlier', 'boost',
              'n_cat_values', 'cat_start_bits', 'tree_class_bits', 'leaf_class_bits', 'record_bytes',
              'entry_class_bits', 'start_bits', 'nonnegative_thresholds')

    def __init__(self, frame):
        f = dict(zip(self.FIELDS, frame.fields))
        if f['boost'] or f['outlier'] or f['n_cat_values'] or f['tree_class_bits']:
            raise ValueError('the pure-Python runtime runs decision trees and forests (classifiers and '
                             'regressors), not boosted models, isolation forests or categorical splits')
        (nodes, self.thresholds, leaves, leaf_codes, roots, _, _, _, _, _, _, leaf_classes, leaf_starts,
         leaf_entries, _) = frame.tables
        self.real64 = frame.real64
        self.n_nodes = f['n_nodes']
        self.n_trees = f['n_trees']
        self.width = f['leaf_width']
        self.n_features = f['n_features']
        # The bit records, decoded once: feature, flags, ref and threshold of
        # every node, the root of every tree.
        fb, rb, tb = f['feature_bits'], f['ref_bits'], f['thr_bits']
        # Records are whole bytes each (record_bytes) or bit-packed; the
        # fields sit at the same bits of a record either way.
        record = 8 * f['record_bytes'] if f['record_bytes'] else fb + 3 + rb + tb
        n = self.n_nodes
        self.feature = array.array('H', [0] * n)
        self.flags = bytearray(n)
        self.ref = array.array('I', [0] * n)
        self.thr = array.array('I', [0] * n)
        for node in range(n):
            pos = node * record
            self.feature[node] = _bits(nodes, pos, fb)
            self.flags[node] = _bits(nodes, pos + fb, 3)
            self.ref[node] = _bits(nodes, pos + fb + 3, rb)
            self.thr[node] = _bits(nodes, pos + fb + 3 + rb, tb) if tb else node
        self.roots = _fields_of(roots, self.n_trees, f['root_bits'], 'I')
        self.votes = f['leaf_class_bits'] != 0
        if self.votes:
            self.leaf_class = _fields_of(leaf_classes, f['n_leaves'], f['leaf_class_bits'], 'H')
        elif f['entry_class_bits']:
            # Entry rows: each row's nonzero values as (class, value index)
            # pairs, read one after the other up to the row's last flag.
            vb, cb = f['value_bits'], f['entry_class_bits']
            eb = vb + cb + 1
            starts = _fields_of(leaf_starts, f['n_leaves'], f['start_bits'], 'I')
            self.entries = []
            for first in starts:
                row = []
                pos = first * eb
                while True:
                    entry = _bits(leaf_entries, pos, eb)
                    row.append(((entry >> vb) & ((1 << cb) - 1), entry & ((1 << vb) - 1)))
                    if entry >> (vb + cb):
                        break
                    pos += eb
                self.entries.append(row)
            self.leaves = leaves
        else:
            # Each leaf row's values, as indices into `leaves`.
            self.entries = None
            count = f['n_leaves'] * self.width
            self.codes = (_fields_of(leaf_codes, count, f['value_bits'], 'I') if f['value_bits']
                          else None)
            self.leaves = leaves

    def check(self, eid, kind, width):
        if eid not in (1, 2):
            raise ValueError('trees: entry point %d is not one the pure-Python runtime runs' % eid)

    def leaf(self, tree, x):
        # The leaf row x reaches in tree `tree` (forest_leaf): NaN goes where
        # the node's missing flag says, other values left when x <= t.
        node = self.roots[tree]
        if node >= self.n_nodes:
            return node - self.n_nodes
        feature, flags, ref, thr, thresholds = self.feature, self.flags, self.ref, self.thr, self.thresholds
        while True:
            value = x[feature[node]]
            flag = flags[node]
            if value != value:
                left = flag & 4
            else:
                left = value <= thresholds[thr[node]]
            if flag & (1 if left else 2):
                return ref[node] + (1 if (not left and flag & 1) else 0)
            node += 1 if (left or flag & 1) else ref[node]

    def sums(self, x):
        # The leaf rows x reaches, summed in tree order from 0 (forest_sum):
        # in binary64 for float64 tables, else float32.
        width = self.width
        sums = [0.0] * width
        r = _same if self.real64 else _r
        if self.entries is not None:
            # A zero left out changes no sum (forest_add_leaf).
            leaves, entries = self.leaves, self.entries
            for t in range(self.n_trees):
                for j, code in entries[self.leaf(t, x)]:
                    sums[j] = r(sums[j] + leaves[code])
            return sums
        leaves, codes = self.leaves, self.codes
        for t in range(self.n_trees):
            first = self.leaf(t, x) * width
            for j in range(width):
                i = first + j
                sums[j] = r(sums[j] + leaves[codes[i] if codes is not None else i])
        return sums

    def run(self, eid, x, out):
        width, n = self.width, self.n_trees
        if self.votes:
            # Class votes: counts, then count / n_trees rounded to float.
            counts = [0] * width
            for t in range(n):
                counts[self.leaf_class[self.leaf(t, x)]] += 1
            if eid == 1:
                return argmax(counts, width)
            for j in range(width):
                out[j] = _r(counts[j] / n)
            return
        sums = self.sums(x)
        r = _same if self.real64 else _r
        means = [r(s / n) for s in sums]
        if eid == 1 and out is None:
            return argmax(means, width)  # argmax_of_mean: the first largest mean
        for j in range(width):
            out[j] = _r(means[j])


_KERNELS[1] = _Trees
