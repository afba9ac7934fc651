"""Benchmark engines: one class per way of running a suite model (DynaJIT
interpreter / JIT, ONNX Runtime, PyTorch eager / compiled). `registry.ENGINES`
lists them in table order; a new engine is one file plus one line there."""
