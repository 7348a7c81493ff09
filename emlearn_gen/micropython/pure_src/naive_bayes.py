# Joined after common.py (emlearn_gen.micropython.pure), whose names it uses.
# ruff: noqa: F821
# ---- naive_bayes (naive_bayes.hpp): joint log-likelihoods per class ----


def logsumexp_f(v, n):
    # ln(sum e^v) with the largest value taken out (math.hpp's logsumexp_f).
    largest = v[0]
    for i in range(1, n):
        if v[i] > largest:
            largest = v[i]
    if (_fb(largest) & 0x7F800000) == 0x7F800000:
        return largest
    total = 0.0
    for i in range(n):
        total = _r(total + exp_f(_r(v[i] - largest)))
    return _r(largest + log_f(total))


class _NaiveBayes:
    NAME = 'naive_bayes'
    FORMAT = 1
    TABLES = ('f', 'f', 'f', 'h', 'f')
    FIELDS = ('n_features', 'n_classes', 'kind')

    def __init__(self, frame):
        self.weights, self.means, self.constants, self.categories, self.thresholds = frame.tables
        self.n_features, self.n_classes, self.kind = frame.fields
        if self.kind > 3:
            raise _bad('unknown naive Bayes kind %d' % self.kind)
        self.jll = array.array('f', [0.0] * self.n_classes)

    def check(self, eid, kind, width):
        if eid not in (1, 2, 3, 4):
            raise ValueError('naive_bayes: entry point %d is not one the pure-Python runtime runs' % eid)

    def term_sum(self, x, k):
        # Class k's sum of terms over the features, in index order from 0.
        r, n, w = _r, self.n_features, self.weights
        total = 0.0
        if self.kind == 3:
            # Categorical: the weight of x's category (truncated toward 0);
            # categories outside the feature's range (and NaN) add nothing.
            block = 0
            for i in range(n):
                count = self.categories[i]
                if x[i] > -1.0 and x[i] < float(count):
                    total = r(total + w[block + k * count + int(x[i])])
                block += self.n_classes * count
            return total
        row = k * n
        if self.kind == 2:
            means = self.means
            for i in range(n):
                d = r(x[i] - means[row + i])
                total = r(total + r(r(d * d) * w[row + i]))
            return total
        if self.kind == 1:
            threshold = self.thresholds[0]
            for i in range(n):
                total = r(total + r(w[row + i] * (1.0 if x[i] > threshold else 0.0)))
            return total
        for i in range(n):
            total = r(total + r(w[row + i] * x[i]))
        return total

    def joint(self, x, jll):
        for k in range(self.n_classes):
            s = self.term_sum(x, k)
            c = self.constants[k]
            jll[k] = _r(c - s) if self.kind == 2 else _r(s + c)

    def run(self, eid, x, out):
        n = self.n_classes
        if eid == 1 and out is None:
            self.joint(x, self.jll)
            return argmax(self.jll, n)
        self.joint(x, out)
        if eid == 4:
            return
        total = logsumexp_f(out, n)
        for k in range(n):
            out[k] = _r(out[k] - total)
        if eid == 2:
            for k in range(n):
                out[k] = exp_f(out[k])


_KERNELS[4] = _NaiveBayes
