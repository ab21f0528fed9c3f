"""hopjax: Differentiable Hopfield-type associative memories in JAX.

The library, layer by layer (each module imports only those above it):

* foundations — :mod:`hopjax.patterns` (memories, corruption, overlaps, the sign rule),
  :mod:`hopjax.rules` (storage and Hebbian learning rules), :mod:`hopjax.activations`,
  :mod:`hopjax.normalizers` (softmax, sparsemax, entmax, normmax and their conjugates);
* models — binary: :mod:`hopjax.classical` (the binary contract, Hopfield network, ``run``),
  :mod:`hopjax.lowrank` (the Hebbian network held as its patterns), :mod:`hopjax.correlation`,
  :mod:`hopjax.dense` (dense AM, modern Hopfield, Minerva2, universal Hopfield),
  :mod:`hopjax.sequence` and :mod:`hopjax.cycles` (asymmetric sequence networks, limit cycles),
  :mod:`hopjax.ags` (the replica-symmetric phase diagram of the Hebbian network);
  continuous: :mod:`hopjax.idp` (+ :mod:`hopjax.idp_theory`) and :mod:`hopjax.gsemm` (+
  :mod:`hopjax.episodes`: integrate from a cue and judge the episode);
* solvers and measurements — :mod:`hopjax.solve` (the continuous-model interface, diffrax and
  RK4 integrators), :mod:`hopjax.measure` (crossings, transitions, episode decoding);
* around them — :mod:`hopjax.tune` (gradient-based tuning), :mod:`hopjax.nn` (equinox layers),
  :mod:`hopjax.sweep` (the ensemble engine), :mod:`hopjax.plot`, :mod:`hopjax.cli`,
  :mod:`hopjax.serialise` (``save`` / ``load`` of any model).

``import hopjax`` imports neither the experiments nor matplotlib.
"""

from importlib import metadata as _metadata

from hopjax import ags as ags
from hopjax import classical as classical
from hopjax import cycles as cycles
from hopjax import dense as dense
from hopjax import episodes as episodes
from hopjax import gsemm as gsemm
from hopjax import idp as idp
from hopjax import idp_theory as idp_theory
from hopjax import lowrank as lowrank
from hopjax import measure as measure
from hopjax import nn as nn
from hopjax import normalizers as normalizers
from hopjax import patterns as patterns
from hopjax import plot as plot
from hopjax import rules as rules
from hopjax import sequence as sequence
from hopjax import serialise as serialise
from hopjax import solve as solve
from hopjax import tune as tune
from hopjax.classical import AbstractBinaryMemory as AbstractBinaryMemory
from hopjax.classical import AbstractBinaryNetwork as AbstractBinaryNetwork
from hopjax.classical import CorrelationMemory as CorrelationMemory
from hopjax.classical import Hopfield as Hopfield
from hopjax.classical import RunResult as RunResult
from hopjax.classical import run as run
from hopjax.cycles import PrimeRings as PrimeRings
from hopjax.dense import DenseAM as DenseAM
from hopjax.dense import Minerva2 as Minerva2
from hopjax.dense import ModernHopfield as ModernHopfield
from hopjax.dense import UniversalHopfield as UniversalHopfield
from hopjax.gsemm import GSEMM as GSEMM
from hopjax.gsemm import AbstractGSEMM as AbstractGSEMM
from hopjax.gsemm import DenseGSEMM as DenseGSEMM
from hopjax.gsemm import SoftmaxGSEMM as SoftmaxGSEMM
from hopjax.idp import IDPHopfield as IDPHopfield
from hopjax.idp import Kleinfeld as Kleinfeld
from hopjax.idp import Reasoning as Reasoning
from hopjax.idp import ThreeLayer as ThreeLayer
from hopjax.lowrank import LowRankHebbian as LowRankHebbian
from hopjax.patterns import flip as flip
from hopjax.patterns import hadamard as hadamard
from hopjax.patterns import mask as mask
from hopjax.patterns import orthogonal_patterns as orthogonal_patterns
from hopjax.patterns import overlaps as overlaps
from hopjax.patterns import random_bipolar as random_bipolar
from hopjax.patterns import random_sparse as random_sparse
from hopjax.rules import hebbian as hebbian
from hopjax.rules import pseudo_inverse as pseudo_inverse
from hopjax.rules import storkey as storkey
from hopjax.sequence import DenseSequence as DenseSequence
from hopjax.sequence import SequenceHebbian as SequenceHebbian
from hopjax.serialise import load as load
from hopjax.serialise import save as save
from hopjax.solve import AbstractContinuousMemory as AbstractContinuousMemory
from hopjax.solve import rk4_scan as rk4_scan
from hopjax.solve import simulate as simulate
from hopjax.solve import simulate_fixed as simulate_fixed

try:
    __version__ = _metadata.version("hopjax")
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "GSEMM",
    "AbstractBinaryMemory",
    "AbstractBinaryNetwork",
    "AbstractContinuousMemory",
    "AbstractGSEMM",
    "CorrelationMemory",
    "DenseAM",
    "DenseGSEMM",
    "DenseSequence",
    "Hopfield",
    "IDPHopfield",
    "Kleinfeld",
    "LowRankHebbian",
    "Minerva2",
    "ModernHopfield",
    "PrimeRings",
    "Reasoning",
    "RunResult",
    "SequenceHebbian",
    "SoftmaxGSEMM",
    "ThreeLayer",
    "UniversalHopfield",
    "flip",
    "hadamard",
    "hebbian",
    "load",
    "mask",
    "orthogonal_patterns",
    "overlaps",
    "pseudo_inverse",
    "random_bipolar",
    "random_sparse",
    "rk4_scan",
    "run",
    "save",
    "simulate",
    "simulate_fixed",
    "storkey",
]
"""The ``hj.*`` namespace: the models, functions and types most code needs; the submodules
(``hj.dense``, ``hj.gsemm``, ``hj.measure``, ``hj.nn`` …, and ``hopjax.sweep``) hold the rest."""
