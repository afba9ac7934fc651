"""PyTorch definitions of the benchmark suite's dynamic models (random weights,
fixed seeds). Each module's forward is written in the TorchScript subset, so the
same code runs eagerly (the PyTorch engines) and is scripted for the ONNX export
(real If/Loop nodes). `catalog.py` lists them; `bench/make_models.py` exports them."""
