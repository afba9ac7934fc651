#!/usr/bin/env python3
"""Generates the bundled dynamic models (models/*.onnx) and their reference data
(models/testdata/<model>/), with outputs computed by ONNX Runtime on CPU.

Every model is opset 17, IR version 8 (the C++ side links libonnx 1.12, which reads
IR <= 8), uses only ops the DynaJIT interpreter implements, and has symbolic input
dims so that shapes, branches, routing or trip counts change from run to run.
Weights come from np.random.default_rng(0) (a fresh generator per model, so one
model's weights do not depend on which others exist); inputs from default_rng(1).
Each model is checked with onnx.checker (full_check) and against an independent
NumPy re-implementation before its data is written.

    python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-models.txt
    .venv/bin/python scripts/make_models.py            # writes models/ in the repo
"""
import argparse
import math
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
F32 = TensorProto.FLOAT
I64 = TensorProto.INT64
BOOL = TensorProto.BOOL

# The interpreter's op set; a model using anything else is a bug in this script.
ALLOWED_OPS = set("""Add Sub Mul Div Pow Sqrt Exp Log Tanh Sigmoid Relu Erf Neg Abs Where Equal
Less Greater Not And Or Cast Softmax MatMul Gemm LayerNormalization ReduceSum ReduceMean ReduceMax
ArgMax Shape Reshape Transpose Concat Slice Gather Unsqueeze Squeeze Expand Range ConstantOfShape
Constant Identity NonZero TopK ScatterND If Loop GRU""".split())


class GraphBuilder:
    """Collects nodes and initializers of one (sub)graph; names every node."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.nodes = []
        self.initializers = []
        self.count = 0

    def fresh(self, hint):
        self.count += 1
        return f"{self.prefix}{hint}_{self.count}"

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, outputs=None, n_out=1, **attrs):
        if outputs is None:
            outputs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        name = self.fresh(op_type)
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def graph(self, name, inputs, outputs):
        return helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.initializers)


def weight(rng, shape, fan_in):
    return (rng.standard_normal(shape) / math.sqrt(fan_in)).astype(np.float32)


def make_model(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="dynajit-make_models")
    model.ir_version = IR_VERSION
    return model


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


# --------------------------------------------------------------------------------
# dynamic_mlp: x[batch,16] -> Linear(32) -> Relu -> Linear(4) -> Softmax.

def build_dynamic_mlp():
    rng = np.random.default_rng(0)
    w1, b1 = weight(rng, (16, 32), 16), weight(rng, (32,), 16)
    w2, b2 = weight(rng, (32, 4), 32), weight(rng, (4,), 32)
    g = GraphBuilder("mlp/")
    h = g.op("Relu", [g.op("Add", [g.op("MatMul", ["x", g.const("W1", w1)]), g.const("b1", b1)])])
    logits = g.op("Add", [g.op("MatMul", [h, g.const("W2", w2)]), g.const("b2", b2)])
    g.op("Softmax", [logits], outputs=["probs"], axis=-1)
    graph = g.graph("dynamic_mlp", [helper.make_tensor_value_info("x", F32, ["batch", 16])],
                    [helper.make_tensor_value_info("probs", F32, ["batch", 4])])

    def reference(x):
        return [softmax(np.maximum(x @ w1 + b1, 0) @ w2 + b2)]

    data_rng = np.random.default_rng(1)
    datasets = [{"x": data_rng.standard_normal((b, 16)).astype(np.float32)} for b in (1, 3, 8, 64)]
    return make_model(graph), datasets, reference


# --------------------------------------------------------------------------------
# tiny_encoder: one pre-LN BERT-style block, hidden 32, 4 heads of 8, FFN 64.
# Head reshapes take batch/seq from Shape(tokens) at run time, as PyTorch exports do.

HID, HEADS, HDIM, FFN = 32, 4, 8, 64


def build_tiny_encoder():
    rng = np.random.default_rng(0)
    p = {}
    p["ln1_g"] = (1 + 0.1 * rng.standard_normal(HID)).astype(np.float32)
    p["ln1_b"] = (0.1 * rng.standard_normal(HID)).astype(np.float32)
    for n in ("q", "k", "v", "o"):
        p["W" + n], p["b" + n] = weight(rng, (HID, HID), HID), weight(rng, (HID,), HID)
    p["ln2_g"] = (1 + 0.1 * rng.standard_normal(HID)).astype(np.float32)
    p["ln2_b"] = (0.1 * rng.standard_normal(HID)).astype(np.float32)
    p["Wf1"], p["bf1"] = weight(rng, (HID, FFN), HID), weight(rng, (FFN,), HID)
    p["Wf2"], p["bf2"] = weight(rng, (FFN, HID), FFN), weight(rng, (HID,), FFN)

    g = GraphBuilder("enc/")
    c = {k: g.const(k, v) for k, v in p.items()}
    axes0 = g.const("axes0", np.array([0], np.int64))
    ln1 = g.op("LayerNormalization", ["tokens", c["ln1_g"], c["ln1_b"]], axis=-1, epsilon=1e-5)

    # [batch], [seq] as 1-element i64 tensors, from the runtime shape.
    shape = g.op("Shape", ["tokens"])
    batch = g.op("Unsqueeze", [g.op("Gather", [shape, g.const("idx0", np.array(0, np.int64))], axis=0), axes0])
    seq = g.op("Unsqueeze", [g.op("Gather", [shape, g.const("idx1", np.array(1, np.int64))], axis=0), axes0])
    heads_shape = g.op("Concat", [batch, seq, g.const("num_heads", np.array([HEADS], np.int64)),
                                  g.const("head_dim", np.array([HDIM], np.int64))], axis=0)
    merged_shape = g.op("Concat", [batch, seq, g.const("hidden_size", np.array([HID], np.int64))], axis=0)

    def proj(x, n):
        return g.op("Add", [g.op("MatMul", [x, c["W" + n]]), c["b" + n]])

    def split_heads(x, perm):
        return g.op("Transpose", [g.op("Reshape", [x, heads_shape])], perm=perm)

    q = split_heads(proj(ln1, "q"), [0, 2, 1, 3])           # [b, h, s, d]
    kt = split_heads(proj(ln1, "k"), [0, 2, 3, 1])          # [b, h, d, s]
    v = split_heads(proj(ln1, "v"), [0, 2, 1, 3])           # [b, h, s, d]
    scores = g.op("Div", [g.op("MatMul", [q, kt]), g.const("sqrt_d", np.array(math.sqrt(HDIM), np.float32))])
    attn = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
    merged = g.op("Reshape", [g.op("Transpose", [attn], perm=[0, 2, 1, 3]), merged_shape])
    h = g.op("Add", ["tokens", proj(merged, "o")])

    ln2 = g.op("LayerNormalization", [h, c["ln2_g"], c["ln2_b"]], axis=-1, epsilon=1e-5)
    f1 = g.op("Add", [g.op("MatMul", [ln2, c["Wf1"]]), c["bf1"]])
    erf = g.op("Erf", [g.op("Div", [f1, g.const("sqrt2", np.array(math.sqrt(2.0), np.float32))])])
    act = g.op("Mul", [g.op("Mul", [f1, g.const("half", np.array(0.5, np.float32))]),
                       g.op("Add", [erf, g.const("one", np.array(1.0, np.float32))])])
    f2 = g.op("Add", [g.op("MatMul", [act, c["Wf2"]]), c["bf2"]])
    g.op("Add", [h, f2], outputs=["hidden"])
    graph = g.graph("tiny_encoder", [helper.make_tensor_value_info("tokens", F32, ["batch", "seq", HID])],
                    [helper.make_tensor_value_info("hidden", F32, ["batch", "seq", HID])])

    def reference(tokens):
        b, s, _ = tokens.shape
        x = layer_norm(tokens, p["ln1_g"], p["ln1_b"])
        heads = lambda t: t.reshape(b, s, HEADS, HDIM).transpose(0, 2, 1, 3)
        q, k, v = (heads(x @ p["W" + n] + p["b" + n]) for n in "qkv")
        a = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(HDIM)) @ v
        h = tokens + a.transpose(0, 2, 1, 3).reshape(b, s, HID) @ p["Wo"] + p["bo"]
        f = gelu(layer_norm(h, p["ln2_g"], p["ln2_b"]) @ p["Wf1"] + p["bf1"]) @ p["Wf2"] + p["bf2"]
        return [h + f]

    data_rng = np.random.default_rng(1)
    datasets = [{"tokens": data_rng.standard_normal((b, s, HID)).astype(np.float32)}
                for b, s in ((1, 1), (3, 7), (8, 33), (2, 64))]
    return make_model(graph), datasets, reference


# --------------------------------------------------------------------------------
# early_exit: BranchyNet. Block 1 + early head; if every row's top softmax
# probability exceeds THRESHOLD, return the early logits, else run block 2 and
# the final head (the else-branch captures h1 and the weights from outside).

THRESHOLD = 0.9


def build_early_exit():
    rng = np.random.default_rng(0)
    w1, b1 = weight(rng, (16, 32), 16), weight(rng, (32,), 16)
    we, be = weight(rng, (32, 4), 32), 0.1 * weight(rng, (4,), 32)
    w2, b2 = weight(rng, (32, 32), 32), weight(rng, (32,), 32)
    wf, bf = weight(rng, (32, 4), 32), weight(rng, (4,), 32)

    g = GraphBuilder("exit/")
    h1 = g.op("Relu", [g.op("Add", [g.op("MatMul", ["x", g.const("W1", w1)]), g.const("b1", b1)])], outputs=["h1"])
    early = g.op("Add", [g.op("MatMul", [h1, g.const("We", we)]), g.const("be", be)], outputs=["early_logits"])
    conf = g.op("ReduceMax", [g.op("Softmax", [early], axis=-1)], axes=[1], keepdims=0)  # [batch]
    # min over the batch, written as -max(-conf) to stay within the op set.
    min_conf = g.op("Neg", [g.op("ReduceMax", [g.op("Neg", [conf])], keepdims=0)])     # scalar
    g.op("Greater", [min_conf, g.const("threshold", np.array(THRESHOLD, np.float32))], outputs=["exited_early"])

    then_b = GraphBuilder("exit/then/")
    then_b.op("Identity", ["early_logits"], outputs=["then_logits"])
    then_graph = then_b.graph("early_head", [], [helper.make_tensor_value_info("then_logits", F32, ["batch", 4])])

    else_b = GraphBuilder("exit/else/")
    h2 = else_b.op("Relu", [else_b.op("Add", [else_b.op("MatMul", ["h1", "W2"]), "b2"])])
    else_b.op("Add", [else_b.op("MatMul", [h2, "Wf"]), "bf"], outputs=["else_logits"])
    else_graph = else_b.graph("final_head", [], [helper.make_tensor_value_info("else_logits", F32, ["batch", 4])])

    g.const("W2", w2), g.const("b2", b2), g.const("Wf", wf), g.const("bf", bf)
    g.op("If", ["exited_early"], outputs=["logits"], then_branch=then_graph, else_branch=else_graph)
    graph = g.graph("early_exit", [helper.make_tensor_value_info("x", F32, ["batch", 16])],
                    [helper.make_tensor_value_info("logits", F32, ["batch", 4]),
                     helper.make_tensor_value_info("exited_early", BOOL, [])])

    def reference(x):
        h1 = np.maximum(x @ w1 + b1, 0)
        early = h1 @ we + be
        exited = bool(softmax(early).max(axis=1).min() > THRESHOLD)
        logits = early if exited else np.maximum(h1 @ w2 + b2, 0) @ wf + bf
        return [logits, np.array(exited)]

    # Input scale controls confidence: large inputs give peaked softmaxes (early
    # exit), small ones near-uniform (full path). The script checks both happen.
    data_rng = np.random.default_rng(1)
    datasets = [{"x": (scale * data_rng.standard_normal((b, 16))).astype(np.float32)}
                for b, scale in ((1, 40.0), (3, 0.05), (8, 1.0), (2, 60.0))]
    return make_model(graph), datasets, reference


# --------------------------------------------------------------------------------
# moe_router: top-1 mixture of experts over [tokens,16]. Each expert gathers its
# routed rows (Equal + NonZero: a data-dependent count), runs Linear+Relu, scales
# by the gate probability and scatters the rows back (ScatterND).

EXPERTS = 4


def build_moe_router():
    rng = np.random.default_rng(0)
    wg = weight(rng, (16, EXPERTS), 16)
    experts = [(weight(rng, (16, 16), 16), weight(rng, (16,), 16)) for _ in range(EXPERTS)]

    g = GraphBuilder("moe/")
    gate = g.op("MatMul", ["x", g.const("Wg", wg)])
    g.op("ArgMax", [gate], outputs=["expert"], axis=1, keepdims=0)                     # [tokens] i64
    top_prob = g.op("ReduceMax", [g.op("Softmax", [gate], axis=-1)], axes=[1], keepdims=1)  # [tokens,1]
    acc = g.op("ConstantOfShape", [g.op("Shape", ["x"])],
               value=numpy_helper.from_array(np.array([0], np.float32)))
    axes0 = g.const("axes0", np.array([0], np.int64))
    for e, (we, be) in enumerate(experts):
        mask = g.op("Equal", ["expert", g.const(f"expert_id{e}", np.array(e, np.int64))])
        where = g.op("NonZero", [mask])                                # [1, n_e]
        rows = g.op("Squeeze", [where, axes0])                         # [n_e]
        picked = g.op("Gather", ["x", rows], axis=0)                   # [n_e, 16]
        out = g.op("Relu", [g.op("Add", [g.op("MatMul", [picked, g.const(f"We{e}", we)]), g.const(f"be{e}", be)])])
        scaled = g.op("Mul", [out, g.op("Gather", [top_prob, rows], axis=0)])
        acc = g.op("ScatterND", [acc, g.op("Transpose", [where], perm=[1, 0]), scaled],
                   outputs=["y"] if e == EXPERTS - 1 else None)
    graph = g.graph("moe_router", [helper.make_tensor_value_info("x", F32, ["tokens", 16])],
                    [helper.make_tensor_value_info("y", F32, ["tokens", 16]),
                     helper.make_tensor_value_info("expert", I64, ["tokens"])])

    def reference(x):
        gate = x @ wg
        expert = gate.argmax(axis=1)
        prob = softmax(gate).max(axis=1, keepdims=True)
        y = np.zeros_like(x)
        for e, (we, be) in enumerate(experts):
            rows = np.nonzero(expert == e)[0]
            y[rows] = np.maximum(x[rows] @ we + be, 0) * prob[rows]
        return [y, expert.astype(np.int64)]

    data_rng = np.random.default_rng(1)
    datasets = [{"x": data_rng.standard_normal((t, 16)).astype(np.float32)} for t in (1, 5, 64, 300)]
    return make_model(graph), datasets, reference


# --------------------------------------------------------------------------------
# greedy_loop: greedy decoding with a GRU cell written out (Sigmoid/Tanh/MatMul).
# Loop trip count: at most "steps" (i64 scalar input), stopping early when the
# argmax token is EOS. Each step feeds the chosen token's embedding back in.

STATE, VOCAB, EOS, BOS = 16, 8, 0, 1


def build_greedy_loop():
    rng = np.random.default_rng(0)
    p = {}
    for gate in ("z", "r", "n"):
        # A strong input drive on the candidate state makes the emitted token steer
        # the next step, so sequences vary with h0 instead of settling on one token.
        p["W" + gate] = weight(rng, (STATE, STATE), STATE) * (3.0 if gate == "n" else 1.0)  # input weights
        p["U" + gate] = weight(rng, (STATE, STATE), STATE)   # recurrent weights
        p["b" + gate] = weight(rng, (STATE,), STATE)
    p["Wo"], p["bo"] = weight(rng, (STATE, VOCAB), STATE), weight(rng, (VOCAB,), STATE)
    p["Emb"] = rng.standard_normal((VOCAB, STATE)).astype(np.float32)

    body = GraphBuilder("loop/body/")
    lin = lambda x, w: body.op("MatMul", [x, w])
    z = body.op("Sigmoid", [body.op("Add", [body.op("Add", [lin("x_in", "Wz"), lin("h_in", "Uz")]), "bz"])])
    r = body.op("Sigmoid", [body.op("Add", [body.op("Add", [lin("x_in", "Wr"), lin("h_in", "Ur")]), "br"])])
    rh = body.op("Mul", [r, "h_in"])
    n = body.op("Tanh", [body.op("Add", [body.op("Add", [lin("x_in", "Wn"), lin(rh, "Un")]), "bn"])])
    h = body.op("Add", [body.op("Mul", [body.op("Sub", ["one", z]), n]), body.op("Mul", [z, "h_in"])],
                outputs=["h_out"])
    logits = body.op("Add", [lin(h, "Wo"), "bo"])
    tok = body.op("ArgMax", [logits], axis=1, keepdims=0)                             # [1] i64
    body.op("Gather", ["Emb", tok], outputs=["x_out"], axis=0)                       # [1,16]
    not_eos = body.op("Not", [body.op("Equal", [tok, "eos"])])
    body.op("Squeeze", [not_eos, "axes0"], outputs=["cond_out"])
    body.op("Identity", [tok], outputs=["token_scan"])
    body.op("Identity", [h], outputs=["state_scan"])
    body_graph = body.graph(
        "gru_step",
        [helper.make_tensor_value_info("iter", I64, []), helper.make_tensor_value_info("cond_in", BOOL, []),
         helper.make_tensor_value_info("h_in", F32, [1, STATE]), helper.make_tensor_value_info("x_in", F32, [1, STATE])],
        [helper.make_tensor_value_info("cond_out", BOOL, []), helper.make_tensor_value_info("h_out", F32, [1, STATE]),
         helper.make_tensor_value_info("x_out", F32, [1, STATE]), helper.make_tensor_value_info("token_scan", I64, [1]),
         helper.make_tensor_value_info("state_scan", F32, [1, STATE])])

    g = GraphBuilder("loop/")
    for k, v in p.items():
        g.const(k, v)
    g.const("one", np.array(1.0, np.float32))
    g.const("eos", np.array([EOS], np.int64))
    g.const("axes0", np.array([0], np.int64))
    g.const("keep_going", np.array(True))
    g.const("bos_embedding", p["Emb"][BOS:BOS + 1])
    g.op("Loop", ["steps", "keep_going", "h0", "bos_embedding"],
         outputs=["h_final", "x_final", "tokens", "states"], body=body_graph)
    graph = g.graph("greedy_loop",
                    [helper.make_tensor_value_info("h0", F32, [1, STATE]),
                     helper.make_tensor_value_info("steps", I64, [])],
                    [helper.make_tensor_value_info("h_final", F32, [1, STATE]),
                     helper.make_tensor_value_info("tokens", I64, ["steps_taken", 1]),
                     helper.make_tensor_value_info("states", F32, ["steps_taken", 1, STATE])])

    sig = lambda t: 1 / (1 + np.exp(-t))

    def reference(h0, steps):
        h, x = h0, p["Emb"][BOS:BOS + 1]
        tokens, states = [], []
        for _ in range(int(steps)):
            z = sig(x @ p["Wz"] + h @ p["Uz"] + p["bz"])
            r = sig(x @ p["Wr"] + h @ p["Ur"] + p["br"])
            n = np.tanh(x @ p["Wn"] + (r * h) @ p["Un"] + p["bn"])
            h = (1 - z) * n + z * h
            tok = (h @ p["Wo"] + p["bo"]).argmax(axis=1)
            x = p["Emb"][tok]
            tokens.append(tok)
            states.append(h)
            if tok[0] == EOS:
                break
        return [h, np.array(tokens, np.int64).reshape(-1, 1), np.array(states, np.float32).reshape(-1, 1, STATE)]

    data_rng = np.random.default_rng(1)
    datasets = []
    for steps, scale in ((0, 1.0), (6, 1.0), (20, 2.0), (32, 0.5)):  # 0: a zero-trip loop
        datasets.append({"h0": (scale * data_rng.standard_normal((1, STATE))).astype(np.float32),
                         "steps": np.array(steps, np.int64)})
    return make_model(graph), datasets, reference


MODELS = {
    "dynamic_mlp": build_dynamic_mlp,
    "tiny_encoder": build_tiny_encoder,
    "early_exit": build_early_exit,
    "moe_router": build_moe_router,
    "greedy_loop": build_greedy_loop,
}


def used_ops(graph):
    ops = set()
    for node in graph.node:
        ops.add(node.op_type)
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                ops |= used_ops(attr.g)
    return ops


def run_ort(model, feeds):
    opts = ort.SessionOptions()
    # Reference outputs should follow the ops as written, not ORT's fused variants.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def describe(arrays):
    return ", ".join(f"{k}={v.dtype}{list(v.shape)}" for k, v in arrays.items())


def write_model(name, model, datasets, reference, out_dir):
    bad = used_ops(model.graph) - ALLOWED_OPS
    if bad:
        sys.exit(f"{name}: uses ops outside the interpreter's set: {sorted(bad)}")
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(out_dir, name + ".onnx")
    onnx.save(model, path)

    case_dir = os.path.join(out_dir, "testdata", name)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    shutil.copyfile(path, os.path.join(case_dir, "model.onnx"))
    input_names = [i.name for i in model.graph.input]
    output_names = [o.name for o in model.graph.output]
    results = []
    for k, feeds in enumerate(datasets):
        outputs = run_ort(model, feeds)
        results.append(outputs)
        expected = reference(*[feeds[n] for n in input_names])
        for oname, got, want in zip(output_names, outputs, expected):
            if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
                sys.exit(f"{name} set {k}: ORT output '{oname}' {got.shape} differs from the NumPy reference "
                         f"{want.shape}; max diff {np.max(np.abs(got - want)) if got.shape == want.shape else 'n/a'}")
        set_dir = os.path.join(case_dir, f"test_data_set_{k}")
        os.makedirs(set_dir)
        for i, n in enumerate(input_names):
            with open(os.path.join(set_dir, f"input_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(feeds[n], n).SerializeToString())
        for j, (n, arr) in enumerate(zip(output_names, outputs)):
            with open(os.path.join(set_dir, f"output_{j}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(arr, n).SerializeToString())
        note = summary(name, outputs)
        print(f"  {name} set {k}: {describe(feeds)} -> {describe(dict(zip(output_names, outputs)))}"
              + (f"  ({note})" if note else ""))
    return results


def summary(name, outputs):
    if name == "early_exit":
        return "early exit" if bool(outputs[1]) else "full path"
    if name == "moe_router":
        return "tokens per expert " + str(np.bincount(outputs[1], minlength=EXPERTS).tolist())
    if name == "greedy_loop":
        return f"{outputs[1].shape[0]} steps, tokens {outputs[1].ravel().tolist()}"
    return ""


def check_coverage(name, all_outputs, datasets):
    """The data must exercise the dynamic behaviour each model exists for."""
    if name == "early_exit":
        taken = {bool(o[1]) for o in all_outputs}
        if taken != {True, False}:
            sys.exit(f"early_exit: data sets take only the {'early' if True in taken else 'full'} path")
    if name == "greedy_loop":
        stopped_on_eos = any(o[1].shape[0] < int(d["steps"]) for o, d in zip(all_outputs, datasets))
        ran_to_limit = any(o[1].shape[0] == int(d["steps"]) for o, d in zip(all_outputs, datasets))
        if not (stopped_on_eos and ran_to_limit):
            sys.exit(f"greedy_loop: data sets must both stop on EOS and run to 'steps' "
                     f"(eos stop: {stopped_on_eos}, to limit: {ran_to_limit})")
    if name == "moe_router":
        if not any(np.bincount(o[1], minlength=EXPERTS).min() == 0 for o in all_outputs):
            sys.exit("moe_router: no data set leaves an expert empty")


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(repo, "models"), help="output folder (default: models/)")
    ap.add_argument("--only", action="append", choices=sorted(MODELS), help="build only this model (repeatable)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, build in MODELS.items():
        if args.only and name not in args.only:
            continue
        model, datasets, reference = build()
        print(f"{name}: {len(model.graph.node)} top-level nodes, ops {sorted(used_ops(model.graph))}")
        outputs = write_model(name, model, datasets, reference, args.out)
        check_coverage(name, outputs, datasets)


if __name__ == "__main__":
    main()
