"""emlearn-gen: fitted scikit-learn models as self-contained C++ headers.

    cm = emlearn_gen.convert(estimator, name="gesture")
    cm.predict(X)          # the C++ runtime, on the host
    cm.save("gesture.hpp") # the same model, for the device
"""

from importlib.metadata import PackageNotFoundError, version

from ._paths import get_include
from .converters import supported_estimators
from .convert import convert
from .model import CModel

try:
    __version__ = version("emlearn-gen")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "unknown"

__all__ = ["CModel", "convert", "get_include", "supported_estimators", "__version__"]
