"""Built-in experiments; importing this package registers them with :mod:`hopjax.sweep`."""

from hopjax.experiments import cycles, gsemm, hopfield_capacity, idp_reasoning, idp_retrieval

__all__ = ["cycles", "gsemm", "hopfield_capacity", "idp_reasoning", "idp_retrieval"]
