# The README's Python example (tests/python/test_readme_example.py runs it from the repo root).
import numpy as np
import dynajit

m = dynajit.load("models/tiny_encoder.onnx")      # like onnxruntime.InferenceSession(path)
print(m.inputs)                                   # tokens: float32, shape ('batch', 'seq', 32)

rng = np.random.default_rng(0)
for batch, seq in [(1, 7), (4, 33)]:              # any batch and sequence length, no padding
    tokens = rng.standard_normal((batch, seq, 32), dtype=np.float32)
    hidden = m.run(tokens=tokens)["hidden"]       # or m.run(None, {"tokens": tokens}) -> [hidden]
    print(hidden.shape)

try:
    m.run(tokens=tokens.astype(np.float64))       # lossy dtypes are refused, not silently rounded
except dynajit.InvalidArgument as e:
    print("refused:", e)

print(m.stats()["runs"], "runs")                  # what the tracer saw, as a dict
