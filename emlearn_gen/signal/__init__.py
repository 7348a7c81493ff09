"""Signal processing for sensor models: feature extraction before a model and
post-processing after it.

Each kernel is written once, in the C++ runtime (runtime/include/emlearn_gen/
signal/), and used from Python through emlearn_gen._runtime: the transformers
here run the very code a device runs.
"""

from .window_stats import WindowFeatures

__all__ = ["WindowFeatures"]
