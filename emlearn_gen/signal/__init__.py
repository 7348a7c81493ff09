"""Signal processing for sensor models: feature extraction before a model and
post-processing after it.

Each kernel is written once, in the C++ runtime (runtime/include/emlearn_gen/),
and used from Python through emlearn_gen._runtime: the transformers and state
objects here run the very code a device runs (docs/signal.md).
"""

from emlearn_gen.signal.spectrum import MFCC, MelSpectrum, SpectralFeatures, Spectrum  # noqa: F401
from emlearn_gen.signal.filters import FIRFilter, SOSFilter  # noqa: F401 (re-exported)
from emlearn_gen.signal.postprocess import (  # noqa: F401 (re-exported)
    ExponentialSmoothing,
    Hysteresis,
    MajorityVote,
    MovingAverage,
    NOfM,
)
from emlearn_gen.signal.window_stats import WindowFeatures  # noqa: F401 (re-exported)
