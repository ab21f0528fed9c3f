"""Built-in experiments; importing this package registers them with :mod:`hopjax.sweep`."""

from hopjax.experiments import cycles, dense, gsemm, hopfield_capacity, idp_reasoning, idp_retrieval

__all__ = ["cycles", "dense", "gsemm", "hopfield_capacity", "idp_reasoning", "idp_retrieval"]
