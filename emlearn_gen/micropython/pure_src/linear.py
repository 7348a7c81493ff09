# Joined after common.py (emlearn_gen.micropython.pure), whose names it uses.
# ruff: noqa: F821
# ---- linear (linear.hpp): scores W x + b, then a link ----


class _Linear:
    NAME = 'linear'
    FORMAT = 1
    TABLES = ('f', 'f')
    FIELDS = ('n_features', 'n_scores', 'link')

    def __init__(self, frame):
        self.weights, self.intercepts = frame.tables
        self.n_features, self.n = frame.fields[0], frame.fields[1]
        self.link = frame.fields[2]
        if self.link > 4:
            raise _bad('unknown link %d' % self.link)
        self.scores = array.array('f', [0.0] * max(2, self.n))

    def check(self, eid, kind, width):
        if eid not in (1, 2, 5):
            raise ValueError('linear: entry point %d is not one the pure-Python runtime runs' % eid)

    def run(self, eid, x, out):
        n = self.n
        if eid == 1 and out is None:
            s = self.scores
            dense_sums(self.weights, 0, self.intercepts, 0, self.n_features, n, x, s)
            if n == 1:
                return 1 if s[0] > 0.0 else 0
            return argmax(s, n)
        dense_sums(self.weights, 0, self.intercepts, 0, self.n_features, n, x, out)
        link = self.link
        if eid == 1:
            if link == 1:  # regressors with a log link: e^score
                for k in range(n):
                    out[k] = exp_f(out[k])
            return
        if eid == 5:
            return
        if link == 2:
            if n == 1:
                p = sigmoid_f(out[0])
                out[0] = _r(1.0 - p)
                out[1] = p
                return
            # One-vs-rest, scaled by e^-max where no score is positive.
            top = out[0]
            for k in range(1, n):
                if out[k] > top:
                    top = out[k]
            for k in range(n):
                s = out[k]
                out[k] = sigmoid_f(s) if top > 0.0 else _r(exp_f(_r(s - top)) / _r(1.0 + exp_f(s)))
            normalize_sum_f(out, n)
        elif link == 3:
            if n == 1:
                out[1] = out[0]
                out[0] = -out[0]
                softmax_f(out, 2)
                return
            softmax_f(out, n)
        elif link == 4:
            if n == 1:
                p = self._huber(out[0])
                out[0] = _r(1.0 - p)
                out[1] = p
                return
            for k in range(n):
                out[k] = self._huber(out[k])
            normalize_sum_f(out, n)

    @staticmethod
    def _huber(s):
        clipped = 1.0 if s > 1.0 else (-1.0 if s < -1.0 else s)
        return _r(_r(clipped + 1.0) / 2.0)


_KERNELS[2] = _Linear
