"""ONNX Runtime on CPU: the suite's .onnx files as exported, default graph
optimizations (ORT_ENABLE_ALL, as users run it), intra-op threads = the suite's
thread count, one inter-op thread, sequential execution."""
from engines.base import Engine, EngineUnavailable


class OnnxRuntimeCPU(Engine):
    name = "ort-cpu"
    label = "ONNX Runtime, CPUExecutionProvider"

    def probe(self):
        try:
            import onnxruntime  # noqa: F401
        except ImportError as e:
            raise EngineUnavailable(f"onnxruntime not installed ({e}); run bench/setup.sh") from e

    def versions(self):
        import onnxruntime
        return {"onnxruntime": onnxruntime.__version__}

    def load(self, model_name, onnx_path, threads):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    def run(self, inputs):
        return self.session.run(None, inputs)
