"""Host models: the C++ runtime kernels, through pybind11, on packed tables."""
