"""hopjax's experiments: one module per experiment, each exporting its ``EXPERIMENT``.

A config names an experiment by its module name (``experiment = "hopfield_capacity"``); the CLI
finds the module in this folder (:mod:`hopjax.sweep.discover`). Nothing registers at import time,
and the library never imports these modules.
"""
