#!/usr/bin/env python3
"""Exports the suite's PyTorch models (bench/models/) to ONNX under bench/models/out/.

Opset 17, IR version 8 (what DynaJIT's frontend reads), TorchScript exporter
(dynamo=False), dynamic axes as bench/models/catalog.py declares, scripted
control flow for the models that branch or loop. After each export the file is
checked three ways: onnx.checker (full_check), ONNX Runtime against PyTorch eager
on the example input, and `dj info` (DynaJIT loads it; an op DynaJIT lacks is
named there). out/manifest.json records a hash of the generator sources, so a
second call with nothing changed exports nothing.

    bench/.venv/bin/python bench/make_models.py [--force] [--model NAME ...]
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import warnings

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
OUT_DIR = os.path.join(BENCH_DIR, "models", "out")
MANIFEST = os.path.join(OUT_DIR, "manifest.json")
DJ_CLI = os.path.join(os.path.dirname(BENCH_DIR), "build", "dj")
OPSET = 17
IR_VERSION = 8


def sources_hash() -> str:
    h = hashlib.sha256()
    model_dir = os.path.join(BENCH_DIR, "models")
    for name in sorted(os.listdir(model_dir)):
        if name.endswith(".py"):
            with open(os.path.join(model_dir, name), "rb") as f:
                h.update(name.encode() + f.read())
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:16]


def model_path(name: str) -> str:
    return os.path.join(OUT_DIR, f"{name}.onnx")


def up_to_date(names) -> bool:
    """True when every named model exists and was made from the current sources."""
    try:
        with open(MANIFEST) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    return manifest.get("sources") == sources_hash() and all(
        n in manifest.get("models", {}) and os.path.exists(model_path(n)) for n in names)


def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in value_info.type.tensor_type.shape.dim]


def relax_loop_carried_shapes(graph, counter=None):
    """Makes symbolic the dims of Loop-carried values whose shape changes per
    iteration. The TorchScript exporter types a list grown by `torch.cat` with
    its first iteration's shapes ([0] in, [1] out), which is wrong from the second
    iteration on (ONNX Runtime warns; a strict engine could refuse). Only dims
    that differ between a body's input and output are relaxed, and the stale
    value_info of those values is dropped."""
    counter = counter if counter is not None else [0]
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == attr.GRAPH:
                relax_loop_carried_shapes(attr.g, counter)
        if node.op_type != "Loop":
            continue
        body = next(a.g for a in node.attribute if a.name == "body")
        carried_in = body.input[2:]
        carried_out = body.output[1:1 + len(carried_in)]
        for k, (vin, vout) in enumerate(zip(carried_in, carried_out)):
            if _dims(vin) == _dims(vout):
                continue
            counter[0] += 1
            symbol = f"loop_carried_{counter[0]}"
            outer = [v for v in list(graph.output) + list(graph.value_info)
                     if len(node.output) > k and v.name == node.output[k]]
            for v in (vin, vout, *outer):
                for i, d in enumerate(v.type.tensor_type.shape.dim):
                    if i >= len(vin.type.tensor_type.shape.dim) or (
                            _dims(vin)[i] != _dims(vout)[i] if i < len(_dims(vout)) else True):
                        d.Clear()
                        d.dim_param = f"{symbol}_{i}"
            stale = [v for v in body.value_info if v.name == vout.name]
            for v in stale:
                body.value_info.remove(v)


def export_one(spec, log):
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from models import catalog

    module = catalog.build(spec.name)
    example = spec.example()
    target = torch.jit.script(module) if spec.scripted else module
    path = model_path(spec.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(target, example, path, opset_version=OPSET, dynamo=False,
                          input_names=list(spec.inputs), output_names=list(spec.outputs),
                          dynamic_axes=spec.dynamic_axes, do_constant_folding=True)
    model = onnx.load(path)
    if model.ir_version > IR_VERSION:
        model.ir_version = IR_VERSION
    relax_loop_carried_shapes(model.graph)
    onnx.save(model, path)
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({n.op_type for n in model.graph.node})

    with torch.no_grad():
        expected = module(*example)
    expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, {n: t.numpy() for n, t in zip(spec.inputs, example)})
    for name, e, g in zip(spec.outputs, expected, got):
        e = e.numpy()
        if e.shape != g.shape or not np.allclose(e, g, rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"{spec.name}: ONNX Runtime and PyTorch disagree on output '{name}' "
                               f"(shapes {g.shape} vs {e.shape})")
    log(f"  ops: {' '.join(ops)}")
    return ops


def dj_accepts(path: str):
    """(ok, message) from `dj info`; (None, why) when the CLI is not built."""
    if not os.path.exists(DJ_CLI):
        return None, f"{DJ_CLI} not built"
    p = subprocess.run([DJ_CLI, "info", path], capture_output=True, text=True)
    return p.returncode == 0, (p.stderr or p.stdout).strip().splitlines()[-1:] or [""]


def ensure_models(names=None, force=False, log=print) -> dict:
    """Exports the named models (all when None) unless up to date; returns the manifest."""
    from models import catalog
    names = list(names or catalog.BY_NAME)
    if not force and up_to_date(names):
        with open(MANIFEST) as f:
            return json.load(f)
    os.makedirs(OUT_DIR, exist_ok=True)
    try:
        with open(MANIFEST) as f:
            manifest = json.load(f)
        if manifest.get("sources") != sources_hash():
            manifest = {}
    except (OSError, ValueError):
        manifest = {}
    manifest["sources"] = sources_hash()
    models = manifest.setdefault("models", {})
    for name in names:
        if not force and name in models and os.path.exists(model_path(name)):
            continue
        t0 = time.time()
        log(f"[export] {name} ...")
        ops = export_one(catalog.BY_NAME[name], log)
        ok, msg = dj_accepts(model_path(name))
        status = {True: "loads in DynaJIT", False: "DynaJIT REFUSES it", None: "not checked"}[ok]
        log(f"  {status}: {msg}" if ok is not True else f"  {status}")
        models[name] = {"ops": ops, "dynajit_loads": ok, "dynajit_message": msg,
                        "bytes": os.path.getsize(model_path(name))}
        log(f"  {os.path.getsize(model_path(name)) / 1e6:.1f} MB in {time.time() - t0:.1f} s")
        with open(MANIFEST, "w") as f:
            json.dump(manifest, f, indent=1)
    return manifest


def main():
    from models import catalog
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="export even when up to date")
    ap.add_argument("--model", action="append", choices=sorted(catalog.BY_NAME), help="only these")
    args = ap.parse_args()
    manifest = ensure_models(args.model, force=args.force)
    refused = [n for n, m in manifest["models"].items() if m["dynajit_loads"] is False]
    for n in refused:
        print(f"DynaJIT refuses {n}: {manifest['models'][n]['dynajit_message']}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
