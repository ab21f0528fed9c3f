"""hopjax: GPU-accelerated, differentiable Hopfield-type associative memories in JAX.

Modules: :mod:`hopjax.patterns` (memories, corruption, overlaps), :mod:`hopjax.rules` (storage and
Hebbian learning rules), :mod:`hopjax.classical` (binary Hopfield network, ``run``,
correlation-matrix memories), :mod:`hopjax.idp` (IDP Hopfield, three-layer, reasoning and
Kleinfeld models on diffrax; ``simulate``) and :mod:`hopjax.idp_theory` (slow-dynamics theory).
"""

from importlib.metadata import PackageNotFoundError, version

from hopjax import classical, idp, idp_theory, patterns, rules
from hopjax.classical import CorrelationMemory, Hopfield, RunResult, run
from hopjax.patterns import (
    flip,
    hadamard,
    mask,
    orthogonal_patterns,
    overlaps,
    random_bipolar,
    random_sparse,
)
from hopjax.rules import hebbian, pseudo_inverse, storkey

try:
    __version__ = version("hopjax")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "CorrelationMemory",
    "Hopfield",
    "RunResult",
    "__version__",
    "classical",
    "flip",
    "hadamard",
    "hebbian",
    "idp",
    "idp_theory",
    "mask",
    "orthogonal_patterns",
    "overlaps",
    "patterns",
    "pseudo_inverse",
    "random_bipolar",
    "random_sparse",
    "rules",
    "run",
    "storkey",
]
