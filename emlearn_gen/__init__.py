"""emlearn-gen: fitted scikit-learn models as self-contained C++ headers.

    cm = emlearn_gen.convert(estimator, name="gesture")
    cm.predict(X)          # the C++ runtime, on the host
    cm.save("gesture.hpp") # the same model, for the device
"""

from . import _runtime
from ._paths import get_include
from .convert import convert, supported_estimators
from .model import CModel

# The version lives in one place, the runtime's common.hpp, which the
# compiled module was built from.
__version__ = f"{_runtime.VERSION_MAJOR}.{_runtime.VERSION_MINOR}.{_runtime.VERSION_PATCH}"

__all__ = ["CModel", "convert", "get_include", "supported_estimators", "__version__"]
