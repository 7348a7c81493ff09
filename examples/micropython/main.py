"""The board's side: read windows, compute their features, classify them.

Runs on MicroPython with activity.mpy (or activity.py), features.py,
windows.bin and expected.txt beside it. On a real board the windows would
come from the accelerometer; here they come from a file so that the
decisions can be compared with the host's.
"""

import struct
from array import array

import activity
from features import window_features

N_SAMPLES = 32
WINDOW_BYTES = N_SAMPLES * 3 * 4

x = array('f', [0.0] * activity.n_features)
decisions = []
with open('windows.bin', 'rb') as f:
    while True:
        raw = f.read(WINDOW_BYTES)
        if len(raw) < WINDOW_BYTES:
            break
        window = struct.unpack('<%df' % (N_SAMPLES * 3), raw)
        for i, value in enumerate(window_features(window)):
            x[i] = value
        decisions.append(activity.predict(x))

with open('expected.txt') as f:
    expected = f.read().split()
print('windows classified on the board:', len(decisions))
print('the board decides every window as the host runtime:', [str(d) for d in decisions] == expected)
