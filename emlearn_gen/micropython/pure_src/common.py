# emlearn-gen's pure-Python runtime for MicroPython: model files
# (docs/model-file.md) read and run with the runtime's kernels, written in
# Python for ports that cannot load native modules. MicroPython-compatible:
# no numpy, no f-strings. Written by emlearn_gen.micropython.pure, which
# joins this part, the kernels of the families a module needs, and the
# module's end.
#
# Arithmetic. The C++ kernels compute in float32 (and binary64 where a
# model's tables are float64). Where MicroPython's float is binary64 (the
# unix port, most 64-bit hosts) every float32 operation is computed in
# binary64 and rounded to float32 by _r: for +, -, *, / of float32 operands
# that gives exactly float32's result, so the results are the C++ kernels'
# bits. Where MicroPython's float is float32 (Cortex-M4F boards), _r does
# nothing and the hardware computes float32 as the C++ kernels do; binary64
# sums are then float32 sums (see docs/micropython.md for what that changes).
import array
import struct

_MAGIC = b'EMLG'
_VERSION = 1
_HEADER = '<4sHBBHBBBBHIIII'
_HEADER_BYTES = 32
# Output kinds and entry points of the file format (model_file.hpp).
_LABEL = 1
_OUTLIER = 2
_VALUES = 3
_ENTRY_NAMES = {1: 'predict', 2: 'predict_proba', 3: 'predict_log_proba', 4: 'predict_joint_log_proba',
                5: 'decision_function', 6: 'score_samples', 7: 'transform'}
_LOG_OF_PROBA = 1
_PROBA = 2
# Table element types: (array typecode, bytes each); 'B' tables stay bytes.
_ELEMENTS = {1: ('B', 1), 2: ('b', 1), 3: ('h', 2), 4: ('I', 4), 5: ('f', 4), 6: ('d', 8)}
_FAMILY_NAMES = {1: 'trees', 2: 'linear', 3: 'mlp', 4: 'naive_bayes', 5: 'svm', 6: 'neighbors',
                 7: 'mixture', 8: 'clusters', 9: 'transforms'}
# Kernels of the families this module holds: {family id: class}, filled in
# by the families' parts below.
_KERNELS = {}

_slot = array.array('f', [0.0])


def _round32(v):
    _slot[0] = v
    return _slot[0]


def _same(v):
    return v


# float32 already (the third is exact) or binary64 (it rounds).
FLOAT32 = _round32(1 / 3) == 1 / 3
_r = _same if FLOAT32 else _round32


def _bf(bits):
    # The float32 of a bit pattern.
    return struct.unpack('<f', struct.pack('<I', bits))[0]


def _fb(x):
    # The bit pattern of a float32 value.
    return struct.unpack('<I', struct.pack('<f', x))[0]


_INF = _bf(0x7F800000)
_NAN = _bf(0x7FC00000)


def _pow2(e):
    # 2^e for -126 <= e <= 127.
    return _bf((e + 127) << 23)


# ---- math.hpp: exp_f, log_f, sigmoid_f, tanh_f, softmax_f, normalize_sum_f,
# operation for operation (each product rounded before it is added).
_LOG2E = _bf(0x3fb8aa3b)
_LN2_HI = _bf(0x3f317200)
_LN2_LO = _bf(0x35bfbe8e)
_EXP_OVERFLOW = _bf(0x42b17217)
_EXP_TINY = _bf(0x33000000)
_EXP_C = (_bf(0x3ab5119f), _bf(0x3c091d3b), _bf(0x3d2aac7b), _bf(0x3e2aaa48), _bf(0x3efffffe))


def exp_f(x):
    if x != x:
        return x
    if x > _EXP_OVERFLOW:
        return _INF
    if x < -104.0:
        return 0.0
    if -_EXP_TINY < x < _EXP_TINY:
        return 1.0
    y = _r(x * _LOG2E)
    k = int(_r(y - 0.5) if y < 0.0 else _r(y + 0.5))
    kf = float(k)
    r = _r(_r(x - _r(kf * _LN2_HI)) - _r(kf * _LN2_LO))
    q = _EXP_C[0]
    for c in _EXP_C[1:]:
        q = _r(_r(q * r) + c)
    p = _r(1.0 + _r(r + _r(_r(r * r) * q)))
    if k > 127:
        return _r(_r(p * 2.0) * _pow2(k - 1))
    if k < -126:
        return _r(_r(p * _pow2(k + 64)) * _pow2(-64))
    return _r(p * _pow2(k))


# The bits of math.hpp's decimal literals (0.400009722f is 0x3eccce13).
_LG = (_bf(0x3f2aaaaa), _bf(0x3eccce13), _bf(0x3e91e9ee), _bf(0x3e789e26))


def log_f(x):
    bits = _fb(x)
    if (bits << 1) & 0xFFFFFFFF == 0:
        return -_INF
    if bits >= 0x7F800000:
        return x if bits == 0x7F800000 else _NAN
    k = 0
    if bits < 0x00800000:
        while bits < 0x00800000:
            bits <<= 1
            k -= 1
        bits = (bits & 0x007FFFFF) | 0x00800000
    bits += 0x3F800000 - 0x3F3504F3
    k += (bits >> 23) - 127
    bits = (bits & 0x007FFFFF) + 0x3F3504F3
    f = _r(_bf(bits) - 1.0)
    if f == 0.0 and k == 0:
        return 0.0
    s = _r(f / _r(2.0 + f))
    z = _r(s * s)
    w = _r(z * z)
    t1 = _r(w * _r(_LG[1] + _r(w * _LG[3])))
    t2 = _r(z * _r(_LG[0] + _r(w * _LG[2])))
    r = _r(t1 + t2)
    h = _r(_r(0.5 * f) * f)
    kf = float(k)
    return _r(_r(_r(_r(_r(s * _r(h + r)) + _r(kf * _LN2_LO)) - h) + f) + _r(kf * _LN2_HI))


def sigmoid_f(s):
    if s >= 0.0:
        return _r(1.0 / _r(1.0 + exp_f(-s)))
    e = exp_f(s)
    return _r(e / _r(1.0 + e))


_TANH_ONE = _bf(0x41107ae1)
_TANH_POLY = _bf(0x3f200000)
_TANH_TINY = _bf(0x39800000)
_TANH_P = (_bf(0xbbbaf0e0), _bf(0x3ca9134c), _bf(0xbd5c1e2d), _bf(0x3e088393), _bf(0xbeaaaa99))


def tanh_f(x):
    if x != x:
        return x
    negative = (_fb(x) >> 31) != 0
    t = -x if negative else x
    if t > _TANH_ONE:
        y = 1.0
    elif t >= _TANH_POLY:
        e = exp_f(-2.0 * t)
        y = _r(_r(1.0 - e) / _r(1.0 + e))
    elif t >= _TANH_TINY:
        z = _r(t * t)
        p = _TANH_P[0]
        for c in _TANH_P[1:]:
            p = _r(_r(p * z) + c)
        y = _r(t + _r(_r(t * z) * p))
    else:
        y = t
    return -y if negative else y


def softmax_f(v, n):
    largest = v[0]
    for i in range(1, n):
        if v[i] > largest:
            largest = v[i]
    total = 0.0
    for i in range(n):
        v[i] = exp_f(_r(v[i] - largest))
        total = _r(total + v[i])
    for i in range(n):
        v[i] = _r(v[i] / total)


def normalize_sum_f(v, n):
    total = 0.0
    for i in range(n):
        total = _r(total + v[i])
    if total == 0.0:
        uniform = _r(1.0 / float(n))
        for i in range(n):
            v[i] = uniform
        return
    for i in range(n):
        v[i] = _r(v[i] / total)


def argmax(v, n):
    # The first largest value (NaN is never the largest), as numpy.argmax.
    best = 0
    for i in range(1, n):
        if v[i] > v[best]:
            best = i
    return best


# dense.hpp's activations of a layer's values, in place.
def dense_activate(v, n, activation):
    if activation == 1:
        for k in range(n):
            if not v[k] > 0.0:
                v[k] = 0.0
    elif activation == 2:
        for k in range(n):
            v[k] = sigmoid_f(v[k])
    elif activation == 3:
        for k in range(n):
            v[k] = tanh_f(v[k])
    elif activation == 4:
        softmax_f(v, n)


def dense_sums(weights, w_first, biases, b_first, n_in, n_out, x, out):
    # out[k] = (sum over i of w[k][i] * x[i], in index order from 0, each
    # product rounded) + b[k]: dense.hpp's dense_sums in float32.
    r = _r
    for k in range(n_out):
        row = w_first + k * n_in
        total = 0.0
        for i in range(n_in):
            total = r(total + r(weights[row + i] * x[i]))
        out[k] = r(total + biases[b_first + k])


# ---- the file frame (docs/model-file.md) ----

def _crc32(data):
    try:
        from binascii import crc32
    except ImportError:
        crc32 = None
    if crc32 is not None:
        return crc32(data) & 0xFFFFFFFF
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _bad(problem):
    return ValueError('not a loadable model file: ' + problem)


class _File:
    # The frame of a model file, checked: entry points, fields and tables.

    def __init__(self, data):
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError('a model file is bytes or a bytearray, not %s' % type(data).__name__)
        data = bytes(data)
        if len(data) < _HEADER_BYTES + 4:
            raise _bad('%d bytes is shorter than the frame' % len(data))
        (magic, version, family, real, table_format, n_entries, n_fields, n_tables, _, _, n_features,
         total, meta_at, meta_size) = struct.unpack(_HEADER, data[:_HEADER_BYTES])
        if magic != _MAGIC:
            raise _bad('it does not start with EMLG')
        if version != _VERSION:
            raise _bad('file format version %d, this runtime reads version %d' % (version, _VERSION))
        if total > len(data) or total % 4 != 0:
            raise _bad('its stated size %d does not match the %d bytes given' % (total, len(data)))
        stored = struct.unpack('<I', data[total - 4:total])[0]
        if _crc32(data[:total - 4]) != stored:
            raise _bad('its CRC-32 is wrong (the file is damaged)')
        if family not in _KERNELS:
            raise ValueError('this runtime runs models of the families %s, not %s' % (
                ', '.join(sorted(_FAMILY_NAMES[f] for f in _KERNELS)), _FAMILY_NAMES.get(family, str(family))))
        kernel = _KERNELS[family]
        if table_format != kernel.FORMAT:
            raise ValueError('the file holds %s tables of format %d, this runtime reads format %d: write the '
                             'file again with the matching emlearn-gen' % (kernel.NAME, table_format, kernel.FORMAT))
        if real not in (1, 2):
            raise _bad('unknown real type %d' % real)
        at = _HEADER_BYTES
        self.entries = []
        for _ in range(n_entries):
            eid, kind, flags, _, width = struct.unpack('<BBBBI', data[at:at + 8])
            self.entries.append((eid, kind, flags, width))
            at += 8
        self.fields = struct.unpack('<%dI' % n_fields, data[at:at + 4 * n_fields])
        at += 4 * n_fields
        if len(kernel.TABLES) != n_tables or len(kernel.FIELDS) != n_fields:
            raise _bad('%d tables and %d fields where %s models have %d and %d' % (
                n_tables, n_fields, kernel.NAME, len(kernel.TABLES), len(kernel.FIELDS)))
        self.tables = []
        for i in range(n_tables):
            element, _, _, offset, count = struct.unpack('<BBHII', data[at:at + 12])
            at += 12
            self.tables.append(self._table(data, kernel.TABLES[i], element, offset, count, meta_at))
        self.family = family
        self.kernel = kernel
        self.real64 = real == 2
        self.n_features = n_features
        self.metadata = data[meta_at:meta_at + meta_size] if meta_size else b''

    @staticmethod
    def _table(data, want, element, offset, count, end):
        # One table as an array (bytes for uint8), after checking its element
        # type against the family's layout and its bytes against the file.
        if element not in _ELEMENTS:
            raise _bad('unknown element type %d' % element)
        code, size = _ELEMENTS[element]
        if want != code and not (want == 'r' and code in 'fd'):
            raise _bad('a table of element type %d where the layout has %s' % (element, want))
        if offset % 8 != 0 or offset + size * count > end:
            raise _bad('a table lies outside the file')
        raw = data[offset:offset + size * count]
        if code == 'B':
            return raw
        table = array.array(code)
        try:
            table.frombytes(raw)  # CPython, where the checks of emlearn_gen.micropython run it
        except AttributeError:
            table = array.array(code, raw)  # MicroPython copies the bytes of bytes
        return table


# ---- models ----

def _classes_of(metadata):
    if not metadata:
        return None
    try:
        labels = _json_loads(metadata.decode('utf-8')).get('classes')
    except Exception:
        raise _bad('its metadata is not JSON')
    return None if labels is None else tuple(labels['values'])


class Model:
    # A loaded model: predict, and predict_proba, decision_function, ... where
    # the model has them; n_features; classes where there are classes.

    def __init__(self, data, classes=None):
        frame = _File(data)
        self.n_features = frame.n_features
        self._x = array.array('f', [0.0] * frame.n_features)
        self._k = frame.kernel(frame)
        if classes is None:
            classes = _classes_of(frame.metadata)
        if classes is not None:
            self.classes = classes
        self._classes = classes
        for eid, kind, flags, width in frame.entries:
            name = _ENTRY_NAMES.get(eid)
            if name is None or kind not in (_LABEL, _OUTLIER, _VALUES):
                raise ValueError('entry point %d (output kind %d) is not one the pure-Python runtime runs'
                                 % (eid, kind))
            run = _PROBA if flags & _LOG_OF_PROBA else eid
            self._k.check(run, kind, width)
            setattr(self, name, self._method(run, kind, width, flags & _LOG_OF_PROBA, name))

    def _row(self, x):
        # x as the float32 row the kernels read: checked, copied, rounded.
        if isinstance(x, (bytes, bytearray)):
            if len(x) != 4 * self.n_features:
                raise ValueError('expected %d float32 values (%d bytes), got %d bytes'
                                 % (self.n_features, 4 * self.n_features, len(x)))
            x = struct.unpack('<%df' % self.n_features, x)
        try:
            n = len(x)
        except TypeError:
            raise TypeError('x must be an array of float32, a list, a tuple or a buffer, not %s'
                            % type(x).__name__)
        if n != self.n_features:
            raise ValueError('expected %d features, got %d' % (self.n_features, n))
        row = self._x
        try:
            for i in range(n):
                row[i] = x[i]
        except TypeError:
            raise TypeError('x must hold numbers; feature %d is %s' % (i, type(x[i]).__name__))
        return row

    def _method(self, eid, kind, width, log, name):
        kernel = self._k
        if kind != _VALUES:
            classes = self._classes if kind == _LABEL else None

            def label(x):
                index = kernel.run(eid, self._row(x), None)
                return index if classes is None else classes[index]
            return label
        scalar = array.array('f', [0.0])

        def values(x, out=None):
            row = self._row(x)
            if out is None:
                out = scalar if width == 1 else array.array('f', [0.0] * width)
            elif not isinstance(out, array.array) or len(out) != width:
                raise ValueError('%s: out must be an array of %d float32 values' % (name, width))
            kernel.run(eid, row, out)
            if log:
                for k in range(width):
                    out[k] = log_f(out[k])
            return out[0] if out is scalar else out
        return values
