"""The course machinery: what runs, measures, maps and publishes the notebooks.

- :mod:`recutils.course.runner`: ``make course``; runs the notebooks with papermill, a progress bar
  and headline each, kernel logs in ``reports/logs/``, a summary table at the end.
- :mod:`recutils.course.benchmark`: ``make benchmark``; wall time and memory per notebook, the
  README's cost tables.
- :mod:`recutils.course.map`: the course map (README table and ``notebooks/index.ipynb``).
- :mod:`recutils.course.links`: the repository address and the Colab links built from it.
- :mod:`recutils.course.site`: ``make site``; the executed course as a static website.

``python -m recutils.course`` runs the course (``--only 00 03`` some notebooks; ``--stamp`` writes
the repository address and the course map into the notebooks and the README instead).
"""
