"""MicroPython: converted models and the runtime's kernels as MicroPython modules."""
