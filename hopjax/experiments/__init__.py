"""Built-in experiments; importing this package registers them with :mod:`hopjax.sweep`."""

from hopjax.experiments import hopfield_capacity, idp_reasoning, idp_retrieval

__all__ = ["hopfield_capacity", "idp_reasoning", "idp_retrieval"]
