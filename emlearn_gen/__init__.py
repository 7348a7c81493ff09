"""emlearn-gen: fitted scikit-learn models as self-contained C++ headers.

    cm = emlearn_gen.convert(estimator, name="gesture")
    cm.predict(X)          # the C++ runtime, on the host
    cm.save("gesture.hpp") # the same model, for the device
"""

import os
from typing import Union

from . import _runtime
from ._paths import get_include
from .convert import convert, supported_estimators
from .model import CModel


def load_model_file(source: "Union[str, os.PathLike[str], bytes, bytearray, memoryview]") -> CModel:
    """The model of a model file (a path, or the file's bytes), written by
    ``CModel.save_model_file``: predict and the other methods of the model
    it was saved from, with scikit-learn's shapes, dtypes and labels. The
    file goes through the runtime's loader, which checks it as a device
    does; a file it refuses raises ValueError naming the problem."""
    from .core.model_file import load

    if isinstance(source, (bytes, bytearray, memoryview)):
        return load(bytes(source))
    with open(source, "rb") as handle:
        return load(handle.read())


# The version lives in one place, the runtime's common.hpp, which the
# compiled module was built from.
__version__ = f"{_runtime.VERSION_MAJOR}.{_runtime.VERSION_MINOR}.{_runtime.VERSION_PATCH}"

__all__ = ["CModel", "convert", "get_include", "load_model_file", "supported_estimators", "__version__"]
