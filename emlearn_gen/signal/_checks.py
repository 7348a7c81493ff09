"""Argument checks shared by the streaming signal objects: each raises a
ValueError or TypeError that says what is wrong and what to pass instead."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)


def positive_int(value: Any, name: str, maximum: int = 2**31 - 1) -> int:
    """`value` as an int in [1, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if not 1 <= int(value) <= maximum:
        raise ValueError(f"{name} must be an integer from 1 to {maximum}, got {value}")
    return int(value)


def finite_float32(values: Any, name: str) -> np.ndarray:
    """`values` as a float32 array, refusing what float32 cannot hold:
    NaN, infinities, magnitudes beyond float32's range, non-numbers."""
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be an array of numbers: {exc}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must hold real numbers, got complex values")
    as64 = array.astype(np.float64)
    if not np.all(np.isfinite(as64)):
        raise ValueError(f"{name} holds NaN or infinite values; remove or replace them (e.g. interpolate) first")
    if as64.size and np.max(np.abs(as64)) > FLOAT32_MAX:
        raise ValueError(f"{name} holds values beyond float32's range (|x| > {FLOAT32_MAX:.4g}); scale them down")
    return np.ascontiguousarray(as64, dtype=np.float32)


def block(values: Any, n_channels: int, name: str = "block") -> np.ndarray:
    """A block of samples as (n_samples, n_channels) float32: a 1-D array
    is n_samples of one channel."""
    array = finite_float32(values, name)
    if array.ndim == 1 and n_channels == 1:
        return array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != n_channels:
        raise ValueError(
            f"{name} must have shape (n_samples, {n_channels})"
            + (" or (n_samples,)" if n_channels == 1 else "")
            + f" for n_channels={n_channels}, got shape {array.shape}"
        )
    return array


def windows(values: Any, n_channels: int, name: str = "X") -> np.ndarray:
    """Rows of interleaved samples, (n_rows, n_samples * n_channels) float32."""
    array = finite_float32(values, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_windows, n_samples * n_channels), got shape {array.shape}")
    if array.shape[1] == 0 or array.shape[1] % n_channels:
        raise ValueError(
            f"{name} has {array.shape[1]} columns: a row must hold n_samples * n_channels interleaved samples "
            f"(n_channels={n_channels}), at least one sample"
        )
    return array
