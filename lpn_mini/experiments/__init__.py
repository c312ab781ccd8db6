"""Experiments run on top of the core: reproducing the paper's tables and figures.

- ``reproduce``  plans, runs and tabulates the experiments (``lpn-mini reproduce``)
- ``cluster``    runs the same jobs on a Dask cluster
- ``stats``      paired comparisons over seeds: does a claim hold, reverse, or stay open
- ``readout``    a non-learned baseline for the Pattern task (what the grid itself tells)
- ``paper_scale`` scores split into the pattern's cells and the background (chapter 12)
- ``plotting``   the figures of results

Imports point into the core (``lpn_mini.training``, ``lpn_mini.evaluation``, ...) and
``lpn_mini.device``; the core never imports from here.
"""
