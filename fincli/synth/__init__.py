"""Synthetic household history: realistic bank exports plus the ground truth behind them.

``generate(seed, out_dir, start=..., months=...)`` writes, deterministically from ``seed``
(same seed => byte-identical files), one household's finances as the person would have
downloaded them from five banks over time, in five different export layouts, together with
the truth the exports were made from (``truth/``: transactions after dedup, recurring
streams, fraud, user labels).  ``truth/README.md`` (written by :func:`generate`) documents
every file.

``write_large_export(path, rows, seed)`` writes one big Chase-style checking CSV fast, for
benchmarks.

Pure standard library.  Money is an integer number of cents everywhere inside; it becomes
text only when a file is written.  One ``random.Random(seed)`` drives everything; nothing
reads the clock or the global random state, and every iteration is over lists or sorted
keys, so the output does not depend on ``PYTHONHASHSEED``.

Run as a script: ``python -m fincli.synth --seed 7 --months 4 OUT_DIR``.

- model:     accounts, categories, the spending model and merchant names, ``Merchant``/``Txn``
- household: the seeded simulation of the household over the history (writes nothing)
- exports:   the five bank export layouts
- truth:     the ground-truth files, their README, and :func:`truth_ids`
- large:     :func:`write_large_export`
- history:   :func:`generate`, :func:`write_sample` and the command line (``main``)
"""

from .history import SAMPLE_PARAMS, generate, main, write_sample
from .large import write_large_export
from .model import CATEGORIES  # noqa: F401  (used as synth.CATEGORIES)
from .truth import truth_ids

__all__ = ["generate", "write_large_export", "SAMPLE_PARAMS", "write_sample", "truth_ids", "main"]
