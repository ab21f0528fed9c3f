"""Equinox associative-memory layers for JAX models.

* :class:`Hopfield`, :class:`HopfieldPooling`, :class:`HopfieldLayer` — attention-style modern
  Hopfield layers with the vocabulary of ``hopfield-layers`` (Ramsauer et al. 2021): heads,
  iterated updates with early stop, dropout, association maps and energies;
* :class:`HopfieldEncoderLayer`, :class:`HopfieldDecoderLayer` — transformer blocks on them;
* :class:`DenseAMLayer` — a dense associative memory with learned memories (Krotov & Hopfield
  2016);
* :class:`ODEMemory` — the continuous IDP reasoning, Dense GSEMM or IDP Hopfield dynamics with
  diffrax inside the forward pass.

``hopjax.nn.Hopfield`` (a layer) is not ``hopjax.Hopfield`` (the classical binary network).
Everything is a pure equinox module (a pytree of arrays): ``jit``, ``vmap`` and ``grad`` apply;
shapes are per example, batch with ``jax.vmap``.
"""

from hopjax.nn.blocks import HopfieldDecoderLayer as HopfieldDecoderLayer
from hopjax.nn.blocks import HopfieldEncoderLayer as HopfieldEncoderLayer
from hopjax.nn.dense import DenseAMLayer as DenseAMLayer
from hopjax.nn.hopfield import Hopfield as Hopfield
from hopjax.nn.hopfield import HopfieldLayer as HopfieldLayer
from hopjax.nn.hopfield import HopfieldPooling as HopfieldPooling
from hopjax.nn.ode import ODEMemory as ODEMemory

__all__ = [
    "DenseAMLayer",
    "Hopfield",
    "HopfieldDecoderLayer",
    "HopfieldEncoderLayer",
    "HopfieldLayer",
    "HopfieldPooling",
    "ODEMemory",
]
