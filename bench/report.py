"""Turns worker results into the suite's numbers and text tables: per workload
one row per engine (load, first request, median, p99, throughput, peak RSS,
agreement with the reference), then the DynaJIT/peer ratios of median latency
per workload and their geometric mean.

Ratios are DynaJIT's median latency divided by the peer's: above 1 DynaJIT is
slower. Engines that did not run (unavailable, failed) give no ratio; a
geometric mean only covers workloads where both sides ran, and says how many."""
import math
from typing import Dict, List, Optional

import numpy as np


def summarize(result: dict) -> dict:
    """Latency statistics of one worker result (empty when it did not run)."""
    lat = np.asarray(result.get("latencies_s") or [], dtype=np.float64)
    if result.get("status") != "ok" or lat.size == 0:
        return {}
    return {"requests": int(lat.size), "load_s": result.get("load_s"),
            "first_ms": 1000 * float(lat[0]), "median_ms": 1000 * float(np.median(lat)),
            "p99_ms": 1000 * float(np.percentile(lat, 99)), "mean_ms": 1000 * float(lat.mean()),
            "throughput_rps": float(lat.size / lat.sum()), "peak_rss_mb": result.get("peak_rss_mb")}


def path_summary(observed: List[dict]) -> Optional[str]:
    """One line on the paths a trace took (exit depths, decode steps, routing)."""
    if not observed:
        return None
    keys = observed[0].keys()
    parts = []
    for k in keys:
        vals = np.array([o[k] for o in observed])
        if k == "exit_depth":
            counts = {int(d): int((vals == d).sum()) for d in np.unique(vals)}
            parts.append("exit depth " + ", ".join(f"{d}: {n}" for d, n in counts.items()))
        elif k == "steps":
            parts.append(f"decode steps min {vals.min()} median {np.median(vals):g} max {vals.max()}")
        elif k == "busiest_expert_share":
            parts.append(f"busiest expert gets {100 * vals.mean():.0f}% of tokens (mean)")
        elif k == "idle_experts":
            parts.append(f"idle experts per request: mean {vals.mean():.1f}")
    return "; ".join(parts)


def _fmt(v, digits=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}f}"


def engine_rows(workload_entry: dict) -> List[List[str]]:
    """Cells of one workload's table: one row per engine."""
    rows = []
    for name, e in workload_entry["engines"].items():
        s = e["summary"]
        if not s:
            status = e["status"]
            why = e.get("message") or ""
            if status == "unavailable":
                text = why if why.startswith("n/a") else f"n/a: {why}"
            else:
                text = f"{status.upper()}: {why}"
            rows.append([name, text[:170]])
            continue
        agree = e.get("agreement", "-")
        rows.append([name, _fmt(s["load_s"], 2), _fmt(s["first_ms"]), _fmt(s["median_ms"]), _fmt(s["p99_ms"]),
                     _fmt(s["throughput_rps"], 1), _fmt(s["peak_rss_mb"], 0), agree])
    return rows


ENGINE_HEADER = ["engine", "load s", "first ms", "median ms", "p99 ms", "req/s", "peak RSS MB", "outputs"]


def text_table(header: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows if len(r) == len(header))) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for r in rows:
        if len(r) != len(header):  # an engine that did not run: name + message
            out.append(r[0].ljust(widths[0]) + "  " + r[1])
        else:
            out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def ratios(run_json: dict) -> Dict[str, Dict[str, Dict[str, Optional[float]]]]:
    """ratios[dynajit_engine][peer][workload] = median(DynaJIT) / median(peer).

    GPU engines are compared with GPU peers only, CPU engines with CPU peers
    (results written before engines recorded "on_gpu" count as CPU)."""
    engines = run_json["engines"]
    out: Dict[str, Dict[str, Dict[str, Optional[float]]]] = {}
    for dj in [n for n, e in engines.items() if e["is_dynajit"]]:
        on_gpu = engines[dj].get("on_gpu", False)
        for peer in [n for n, e in engines.items() if not e["is_dynajit"] and e.get("on_gpu", False) == on_gpu]:
            per = {}
            for w, entry in run_json["workloads"].items():
                a = entry["engines"].get(dj, {}).get("summary") or {}
                b = entry["engines"].get(peer, {}).get("summary") or {}
                per[w] = a["median_ms"] / b["median_ms"] if a and b else None
            out.setdefault(dj, {})[peer] = per
    return out


def geomean(values) -> Optional[float]:
    vals = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None


def ratio_rows(run_json: dict) -> (List[str], List[List[str]]):
    table = ratios(run_json)
    header, rows = ["workload"], []
    # Only pairs where both engines ran somewhere (the JIT columns appear once it exists).
    columns = [(dj, peer) for dj in table for peer in table[dj] if any(table[dj][peer].values())]
    header += [f"{dj.replace('dynajit-', 'dj-')} / {peer}" for dj, peer in columns]
    for w in run_json["workloads"]:
        cells = [table[dj][peer][w] for dj, peer in columns]
        if any(c is not None for c in cells):
            rows.append([w] + [_fmt(c) + ("x" if c else "") for c in cells])
    gm = []
    for dj, peer in columns:
        vals = [v for v in table[dj][peer].values() if v]
        g = geomean(vals)
        gm.append(f"{_fmt(g)}x ({len(vals)})" if g else "-")
    rows.append(["geometric mean (n)"] + gm)
    return header, rows


def print_report(run_json: dict, out=print):
    meta = run_json["meta"]
    out("")
    out(f"DynaJIT benchmark suite ({'quick' if meta['quick'] else 'full'}), {meta['threads']} threads per engine, "
        f"load average {meta['loadavg_before'][0]:.1f} before / {meta['loadavg_after'][0]:.1f} after "
        f"on {meta['cpu_count']} cores")
    out("Latencies per request in ms over the whole trace, first request included; "
        "'outputs': agreement with " + meta["reference_note"])
    for w, entry in run_json["workloads"].items():
        out("")
        out(f"== {w}: {entry['description']} -- {entry['requests']} requests")
        if entry.get("paths"):
            out(f"   paths: {entry['paths']}")
        out(text_table(ENGINE_HEADER, engine_rows(entry)))
        for name, e in entry["engines"].items():
            for p in e.get("problems", []):
                out(f"   MISMATCH {name}: {p}")
            if e.get("notes"):
                out(f"   note {name}: {e['notes']}")
    header, rows = ratio_rows(run_json)
    out("")
    out("DynaJIT / peer, median latency (above 1: DynaJIT is slower)")
    if len(rows) > 1 or (rows and rows[0][1:] != ["-"] * (len(header) - 1)):
        out(text_table(header, rows))
    else:
        out("  no ratios: no DynaJIT engine ran (see the tables above)")
