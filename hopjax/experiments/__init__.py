"""Built-in experiments; importing this package registers them with :mod:`hopjax.sweep`."""

from hopjax.experiments import (
    cycles,
    dense,
    gsemm,
    hebbian,
    hopfield_capacity,
    idp_reasoning,
    idp_retrieval,
    tune_gsemm,
    tune_idp,
    uhn,
)

__all__ = [
    "cycles",
    "dense",
    "gsemm",
    "hebbian",
    "hopfield_capacity",
    "idp_reasoning",
    "idp_retrieval",
    "tune_gsemm",
    "tune_idp",
    "uhn",
]
