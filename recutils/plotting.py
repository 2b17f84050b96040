"""Figures that several notebooks draw: training curves and metric comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator


def plot_history(history, metrics: Sequence[str] | None = None, title: str | None = None):
    """Training curves from a Keras ``History`` (or its ``.history`` dict): one panel per
    metric, with its ``val_`` twin on the same axes when there is one.  Returns the figure."""
    hist = getattr(history, "history", history)
    if not hist:
        raise ValueError("The history is empty: was the model trained for at least one epoch?")
    names = list(metrics) if metrics else [k for k in hist if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(hist[name]) + 1)
        ax.plot(epochs, hist[name], marker="o", label="train")
        if f"val_{name}" in hist:
            ax.plot(epochs, hist[f"val_{name}"], marker="o", label="validation")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs only
        ax.set_title(name)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_metric_bars(table: pd.DataFrame, metric: str, reference: Mapping[str, float] | None = None,
                     title: str | None = None):
    """Horizontal bars of ``table[metric]`` (index = model names), best at the top, with
    dashed lines for ``reference`` values (e.g. the popularity baseline).  Returns the figure."""
    data = table[metric].sort_values()
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(data) + 1.2))
    ax.barh(data.index.astype(str), data.to_numpy(), color="tab:blue")
    for i, v in enumerate(data.to_numpy()):
        ax.text(v, i, f" {v:.3f}", va="center")
    for name, value in (reference or {}).items():
        ax.axvline(value, ls="--", color="gray", label=name)
    if reference:
        ax.legend(loc="lower right")  # in the corner the shortest bars leave free, not over the title
    ax.set_xlabel(metric)
    ax.set_xlim(0, data.max() * 1.2)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
