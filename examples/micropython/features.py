"""Features of one accelerometer window, in plain Python: the same code runs
in CPython for training and in MicroPython on the board, so the model sees
the same features on both.

A window is a flat sequence of n_samples * 3 floats, samples-major
(x0, y0, z0, x1, y1, z1, ...).
"""

import math

N_AXES = 3
NAMES = ("mean", "std", "min", "max")


def window_features(window):
    """mean, standard deviation, min and max of each axis: 12 floats."""
    n = len(window) // N_AXES
    out = []
    for axis in range(N_AXES):
        values = [window[i * N_AXES + axis] for i in range(n)]
        mean = sum(values) / n
        var = sum((v - mean) * (v - mean) for v in values) / n
        out.extend((mean, math.sqrt(var), min(values), max(values)))
    return out
