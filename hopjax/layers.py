"""Deprecated alias of :mod:`hopjax.nn` (the layers moved there; import from ``hopjax.nn``)."""

import warnings

from hopjax.nn import DenseAMLayer, Hopfield, HopfieldLayer, HopfieldPooling, ODEMemory

__all__ = ["DenseAMLayer", "Hopfield", "HopfieldLayer", "HopfieldPooling", "ODEMemory"]

warnings.warn(
    "hopjax.layers is deprecated: import the layers from hopjax.nn.",
    DeprecationWarning,
    stacklevel=2,
)
