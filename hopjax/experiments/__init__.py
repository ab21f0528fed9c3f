"""Built-in experiments; importing this package registers them with :mod:`hopjax.sweep`."""

from hopjax.experiments import gsemm, hopfield_capacity, idp_reasoning, idp_retrieval

__all__ = ["gsemm", "hopfield_capacity", "idp_reasoning", "idp_retrieval"]
