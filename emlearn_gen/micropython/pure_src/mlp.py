# Joined after common.py (emlearn_gen.micropython.pure), whose names it uses.
# ruff: noqa: F821
# ---- mlp (mlp.hpp on dense.hpp): multi-layer perceptrons ----


class _MLP:
    NAME = 'mlp'
    FORMAT = 2
    TABLES = ('r', 'b', 'f', 'r', 'I')
    FIELDS = ('n_features', 'n_layers', 'n_outputs', 'max_width', 'hidden_activation', 'output_activation',
              'weight_type')

    def __init__(self, frame):
        (self.n_features, self.n_layers, self.n_outputs, width, self.hidden, self.output,
         self.weight_type) = frame.fields
        if self.weight_type == 2 or frame.real64:
            raise ValueError('the pure-Python runtime runs perceptrons with float32 or int8 weights, '
                             'not float64 (convert with dtype="float32")')
        self.weights, self.qweights, self.scales, self.biases, self.sizes = frame.tables
        self.a = array.array('f', [0.0] * width)
        self.b = array.array('f', [0.0] * width)

    def check(self, eid, kind, width):
        if eid not in (1, 2) or kind not in (_LABEL, _VALUES):
            raise ValueError('mlp: entry point %d (output kind %d) is not one the pure-Python runtime runs'
                             % (eid, kind))

    def layer(self, l, w_first, b_first, n_in, n_out, x, dest):
        if self.weight_type == 1:
            # int8 weights: sum q * x in float32, times the layer's scale, plus the bias.
            q, scale, biases, r = self.qweights, self.scales[l], self.biases, _r
            for k in range(n_out):
                row = w_first + k * n_in
                total = 0.0
                for i in range(n_in):
                    total = r(total + r(float(q[row + i]) * x[i]))
                dest[k] = r(r(total * scale) + biases[b_first + k])
        else:
            dense_sums(self.weights, w_first, self.biases, b_first, n_in, n_out, x, dest)

    def sums(self, x, out):
        # The last layer's sums (mlp_sums), the hidden layers alternating in a and b.
        n_in, n_out = self.n_features, self.sizes[1]
        dest = out if self.n_layers == 1 else self.a
        self.layer(0, 0, 0, n_in, n_out, x, dest)
        w_first, b_first = n_in * n_out, n_out
        for l in range(1, self.n_layers):
            dense_activate(dest, n_out, self.hidden)
            source = dest
            n_in, n_out = n_out, self.sizes[l + 1]
            dest = out if l + 1 == self.n_layers else (self.a if l % 2 == 0 else self.b)
            self.layer(l, w_first, b_first, n_in, n_out, source, dest)
            w_first += n_in * n_out
            b_first += n_out

    def run(self, eid, x, out):
        n = self.n_outputs
        if eid == 1 and out is None:
            sums = self.a if self.n_layers % 2 == 1 else self.b
            self.sums(x, sums)
            if n == 1:
                return 1 if sums[0] > 0.0 else 0
            return argmax(sums, n)
        self.sums(x, out)
        dense_activate(out, n, self.output)
        if eid == 2 and n == 1:
            p = out[0]
            out[0] = _r(1.0 - p)
            out[1] = p


_KERNELS[3] = _MLP
