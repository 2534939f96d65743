"""Public callables the differential table does not call, each with the reason (see test_coverage.py)."""

from __future__ import annotations


def _same(reason, *names):
    return dict.fromkeys(names, reason)


EXCLUDED = {
    **_same("legacy typed-tensor constructor, not an op", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor",
            "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor"),
    **_same("global state or configuration, not an op", "clear_autocast_cache", "get_autocast_cpu_dtype",
            "get_autocast_dtype", "get_autocast_gpu_dtype", "get_default_device", "get_default_dtype",
            "get_float32_matmul_precision", "get_num_threads", "get_num_interop_threads", "set_num_interop_threads", "get_rng_state", "initial_seed",
            "is_autocast_cache_enabled", "is_autocast_cpu_enabled", "is_autocast_enabled", "is_grad_enabled",
            "is_inference_mode_enabled", "manual_seed", "seed", "set_autocast_cache_enabled", "set_autocast_dtype",
            "set_autocast_enabled", "set_default_device", "set_default_dtype", "set_float32_matmul_precision",
            "set_num_threads", "set_printoptions", "set_rng_state", "compile"),
    **_same("I/O or interchange, not an op (tests/core/serialization, test_tensor)", "load", "save", "from_dlpack",
            "from_numpy", "Tensor.numpy", "Tensor.data_ptr", "Tensor.storage_offset", "Tensor.share_memory_",
            "Tensor.is_shared", "Tensor.pin_memory", "Tensor.is_pinned"),
    **_same("device movement: one CPU device here (tests/_fakecuda covers it)", "Tensor.cpu", "Tensor.cuda",
            "Tensor.get_device"),
    **_same("autograd API, not an op (tests/core/autograd)", "Tensor.backward", "Tensor.register_hook",
            "Tensor.register_post_accumulate_grad_hook", "Tensor.requires_grad_", "Tensor.retain_grad"),
    **_same("random in-place fill: values are random, the shape is the input's", "Tensor.exponential_",
            "Tensor.random_", "Tensor.uniform_"),
    **_same("type predicate/query, no tensor op", "is_tensor", "is_conj", "promote_types", "Tensor.type"),
    **_same("not in PyTorch's namespace (an ember extra name; PyTorch has it elsewhere)", "expand", "expand_as",
            "sum_to_size", "nn.functional.cdist", "nn.functional.dist", "special.lgamma"),
    **_same("deprecated or removed in PyTorch 2.13 (torch.linalg.* is tabled)", "symeig", "cholesky", "Tensor.cholesky",
            "lu", "Tensor.lu", "lu_solve", "Tensor.lu_solve", "qr", "Tensor.qr", "svd", "Tensor.svd", "slogdet",
            "Tensor.slogdet", "pinverse", "Tensor.pinverse", "triangular_solve", "Tensor.triangular_solve",
            "lu_unpack", "cholesky_inverse", "Tensor.cholesky_inverse", "cholesky_solve", "Tensor.cholesky_solve"),
    **_same("complex construction and views (complex dtypes are not drawn yet)", "complex", "polar", "imag",
            "view_as_complex", "view_as_real"),
    **_same("strided views on raw storage: results depend on memory layout", "as_strided", "Tensor.as_strided"),
    **_same("spectrogram framing: checked against PyTorch in tests/core/ops/test_stft.py", "stft", "Tensor.stft",
            "istft", "Tensor.istft"),
}
