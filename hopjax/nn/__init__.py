"""Equinox associative-memory layers for JAX models.

* :class:`Hopfield`, :class:`HopfieldPooling`, :class:`HopfieldLayer` — attention-style modern
  Hopfield layers with the vocabulary of ``hopfield-layers`` (Ramsauer et al. 2021);
* :class:`DenseAMLayer` — a dense associative memory with learned memories (Krotov & Hopfield
  2016);
* :class:`ODEMemory` — the continuous IDP reasoning, Dense GSEMM or IDP Hopfield dynamics with
  diffrax inside the forward pass.

``hopjax.nn.Hopfield`` (a layer) is not ``hopjax.Hopfield`` (the classical binary network).
Everything is a pure equinox module (a pytree of arrays): ``jit``, ``vmap`` and ``grad`` apply;
shapes are per example, batch with ``jax.vmap``.
"""

from hopjax.nn.dense import DenseAMLayer as DenseAMLayer
from hopjax.nn.hopfield import Hopfield as Hopfield
from hopjax.nn.hopfield import HopfieldLayer as HopfieldLayer
from hopjax.nn.hopfield import HopfieldPooling as HopfieldPooling
from hopjax.nn.ode import ODEMemory as ODEMemory

__all__ = ["DenseAMLayer", "Hopfield", "HopfieldLayer", "HopfieldPooling", "ODEMemory"]
