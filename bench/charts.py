"""One PNG per workload: left, every request's latency against its size (sequence
length, tokens, resolution, ...) per engine, log scale, which shows the shape
dependence and the warm-up/recompile outliers; right, median and p99 per engine."""
import os
from typing import List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = {"dynajit-interp": "#d62728", "dynajit-jit-cold": "#ff7f0e", "dynajit-jit-warm": "#8c564b",
          "ort-cpu": "#1f77b4", "torch-eager": "#2ca02c", "torch-compile": "#9467bd"}


def workload_chart(path: str, workload: str, entry: dict, size_key: str, meta: dict) -> None:
    ran = {n: e for n, e in entry["engines"].items() if e["summary"]}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    for name, e in ran.items():
        sizes = [p[size_key] for p in e["plan"][:len(e["latencies_s"])]]
        ax1.scatter(sizes, 1000 * np.asarray(e["latencies_s"]), s=12, alpha=0.6, label=name,
                    color=COLORS.get(name))
    ax1.set_yscale("log")
    ax1.set_xlabel(size_key)
    ax1.set_ylabel("latency per request (ms, log)")
    ax1.set_title(f"{workload}: every request")
    ax1.grid(True, which="both", alpha=0.3)
    if ran:
        ax1.legend(fontsize=8)
    names: List[str] = list(ran)
    med = [ran[n]["summary"]["median_ms"] for n in names]
    p99 = [ran[n]["summary"]["p99_ms"] for n in names]
    x = np.arange(len(names))
    ax2.bar(x - 0.2, med, 0.4, label="median", color=[COLORS.get(n, "gray") for n in names])
    ax2.bar(x + 0.2, p99, 0.4, label="p99", color=[COLORS.get(n, "gray") for n in names], alpha=0.45)
    ax2.set_xticks(x, names, rotation=25, ha="right", fontsize=8)
    ax2.set_yscale("log")
    ax2.set_ylabel("ms (log)")
    ax2.set_title("median (solid) and p99 (light)")
    ax2.grid(True, axis="y", which="both", alpha=0.3)
    skipped = [n for n, e in entry["engines"].items() if not e["summary"]]
    note = (f"{entry['requests']} requests, {meta['threads']} threads, load avg "
            f"{meta['loadavg_before'][0]:.1f}/{meta['loadavg_after'][0]:.1f} on {meta['cpu_count']} cores")
    if skipped:
        note += "; not run: " + ", ".join(skipped)
    fig.suptitle(entry["description"], fontsize=10)
    fig.text(0.01, 0.01, note, fontsize=7, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
