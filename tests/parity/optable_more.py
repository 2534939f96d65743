"""The differential table's remaining ``torch.*`` functions: aliases, in-place forms, products, statistics,
searching, creation and random functions (random ones compare exceptions, shapes and dtypes only)."""

from __future__ import annotations

import numpy as np

from gen import ALL, FLOATS, INTS, T
from optable import NUM, Op, binary, cat_like, cosine_gen, group_norm_gen, layer_norm_gen, matmul_like, pairwise_gen, pdist_gen, ternary, unary, with_dim
from optable_nn import adaptive_gen, conv_gen, pool_gen, rms_norm_gen

FL = ("float32", "float64")

_UNARY_INPLACE = (
    "abs_", "acos_", "acosh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "cos_", "cosh_", "deg2rad_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "i0_", "log10_", "log1p_", "log2_", "log_",
    "logit_", "nan_to_num_", "rad2deg_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_",
    "sqrt_", "square_", "tan_", "tanh_", "trunc_", "relu_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_",
)


def matrices3(kind):
    def g(d):
        dt = d.dtype(FL)
        b, n, k, m = d.int(1, 2), d.int(1, 3), d.int(1, 3), d.int(1, 3)
        shapes = {"addbmm": ((n, m), (b, n, k), (b, k, m)), "baddbmm": ((b, n, m), (b, n, k), (b, k, m)), "addmv": ((n,), (n, k), (k,)), "addr": ((n, m), (n,), (m,))}[kind]
        return [T(d.values(s, dt), dt, d.grad_mode) for s in shapes], ({"beta": 0.5, "alpha": 2.0} if d.p(0.3) else {})

    return g


def sorted_gen(d):
    import numpy as np

    dt = d.dtype(("float32", "float64", "int64"))
    seq = np.sort(d.values((d.int(0, 5),), dt, special=False))
    return [T(seq, dt), d.tensor(dtypes=(dt,), special=False, max_rank=2)], ({"right": d.p(0.5)} if d.p(0.5) else {})


def bucketize_gen(d):
    a, kw = sorted_gen(d)
    return [a[1], a[0]], kw


def quantile_gen(d):
    x = d.tensor(dtypes=FL, min_rank=1, special=False)
    kw = {"dim": d.dim(x.ndim, 0.0)} if d.p(0.6) else {}
    if d.p(0.3):
        kw["interpolation"] = d.choice(("linear", "lower", "higher", "midpoint", "nearest"))
    row = x.arr.shape[kw["dim"]] if "dim" in kw else x.arr.size
    if row > 16 and np.unique(x.arr).size < x.arr.size:
        # which of several tied elements gets the gradient follows PyTorch's unstable CPU sort (libstdc++'s
        # introsort, stable only up to 16 elements); ember sorts stably: same values, compare values only
        x = T(x.arr, x.dtype)
    return [x, d.choice((0.0, 0.25, 0.5, 1.0))], kw


def shape_only(gen):
    return gen


def creation_gen(d):
    shape = d.shape(max_rank=3)
    kw = {"dtype": "dtype:" + d.choice(FL + ("int64",))} if d.p(0.4) else {}
    return [shape], kw


def like_gen(d):
    x = d.tensor(dtypes=FL)
    return [x], ({"dtype": "dtype:" + d.choice(FL)} if d.p(0.3) else {})


def randint_gen(d):
    return [d.int(0, 3), d.int(4, 9), d.shape(max_rank=3)], {}


def window_gen(d):
    return [d.int(0, 6)], ({"periodic": d.p(0.5)} if d.p(0.5) else {})


def diff_gen(d):
    x = d.tensor(min_rank=1, dtypes=NUM)
    return [x], {"n": d.int(1, 2), "dim": d.dim(x.ndim, 0.0)}


def cov_gen(d):
    x = d.tensor(dtypes=FL, min_rank=1, max_rank=2, min_size=1, special=False)
    return [x], ({"correction": d.choice((0, 1))} if d.p(0.5) else {})


def block_diag_gen(d):
    blocks = [d.tensor(dtypes=FL, max_rank=2), d.tensor(dtypes=FL, max_rank=2)]
    if any(b.shape == (0,) for b in blocks):
        # PyTorch's backward skips the (zero) row of an empty 1-D block, so the gradients of the blocks after
        # it come from the wrong rows (its own gradcheck fails; the values are right): compare values only
        blocks = [T(b.arr, b.dtype) for b in blocks]
    return blocks, {}


def det_gen(d):
    dt = d.dtype(FL)
    a = d.values((2, 2), dt, special=False)
    # PyTorch's det gradient at an exactly singular matrix such as [[1, -2], [0, 0]] is 0 where the adjugate
    # [[0, 0], [2, 1]] is the gradient (its own gradcheck fails): such calls compare values only
    singular = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0] == 0
    return [T(a, dt, d.grad_mode and not singular)], {}


def kron_gen(d):
    return [d.tensor(dtypes=FL, max_rank=2), d.tensor(dtypes=FL, max_rank=2)], {}


def tensordot_gen(d):
    dt = d.dtype(FL)
    a = T(d.values((2, 3, d.int(1, 2)), dt), dt, d.grad_mode)
    b = T(d.values((3, a.shape[2], 2), dt), dt, d.grad_mode)
    return [a, b], {"dims": ([1, 2], [0, 1])}


def rot90_gen(d):
    x = d.tensor(min_rank=2)
    return [x], {"k": d.int(-2, 3), "dims": (0, 1)}


def cummax_gen(d):
    x = d.tensor(dtypes=NUM, distinct=True)
    return [x], {"dim": d.dim(x.ndim, 0.02)}


def scatter_reduce_gen(d):
    x = d.tensor(dtypes=FL, rank=2, min_size=1)
    idx = T(d.rng.integers(0, x.shape[0], size=(d.int(1, 3), x.shape[1])).astype("int64"), "int64")
    src = T(d.values(idx.shape, x.dtype, special=False), x.dtype, x.grad)
    return [x, 0, idx, src], {"reduce": d.choice(("sum", "prod", "mean", "amax", "amin")), "include_self": d.p(0.5)}


def take_along_gen(d):
    x = d.tensor(dtypes=FL, min_rank=1)
    dim = d.dim(x.ndim, 0.0)
    shape = list(x.shape)
    shape[dim] = d.int(0, 3)
    return [x, d.index(tuple(shape), max(x.shape[dim], 1))], {"dim": dim}


def unique_gen(d):
    x = d.tensor(dtypes=("float32", "int64", "bool"), special=False)
    return [x], {"return_inverse": d.p(0.5), "return_counts": d.p(0.5), "sorted": True}


def clamp_gen(kind):
    def g(d):
        x = d.tensor(dtypes=NUM)
        return [x, d.choice((-1, 0.5, 2))], {}

    return g


S1 = lambda n: Op(n, n, unary(NUM))  # noqa: E731

def _torch_level(name, gen, **kw):
    """``torch.X``, the same op as ``F.X``, with F's generator."""
    return Op(name, name, gen, **kw)


OPS_MORE = [
    *[_torch_level(n, g) for n, g in (
        ("adaptive_avg_pool1d", adaptive_gen(1, "avg")), ("avg_pool1d", pool_gen(1, "avg")),
        ("conv1d", conv_gen(1)), ("conv2d", conv_gen(2)), ("conv_transpose1d", conv_gen(1, True)),
        ("conv_transpose2d", conv_gen(2, True)), ("cosine_similarity", cosine_gen), ("group_norm", group_norm_gen),
        ("layer_norm", layer_norm_gen), ("pairwise_distance", pairwise_gen), ("pdist", pdist_gen), ("rms_norm", rms_norm_gen),
    )],
    *[_torch_level(f"max_pool{n}d", (lambda g: lambda d: (lambda a, k: (a, {kk: v for kk, v in k.items() if kk != "return_indices"}))(*g(d)))(pool_gen(n, "max"))) for n in (1, 2, 3)],
    _torch_level("adaptive_max_pool1d", lambda d: (lambda a, k: (a, {}))(*adaptive_gen(1, "max")(d))),
    Op("relu", "relu", unary(NUM)),
    Op("log_softmax", "log_softmax", with_dim(FLOATS, keepdim=False, optional=False)),
    Op("expand_as", ".expand_as", lambda d: ([x := d.tensor(max_rank=2), T(d.values((2,) + tuple(x.shape), x.dtype), x.dtype)], {})),
    Op("reshape_as", ".reshape_as", lambda d: ([x := d.tensor(), T(d.values(tuple(reversed(x.shape)), x.dtype), x.dtype)], {})),
    Op("view_as", ".view_as", lambda d: ([x := d.tensor(), T(d.values((x.arr.size,), x.dtype), x.dtype)], {})),
    Op("type_as", ".type_as", lambda d: ([d.tensor(), d.tensor()], {})),
    Op("view", ".view", lambda d: ([d.tensor(), (-1,)], {})),
    Op("unfold[method]", ".unfold", lambda d: ([x := d.tensor(min_rank=1), d.dim(x.ndim, 0.02), d.int(0, 2), d.int(1, 2)], {})),
    Op("meshgrid", "meshgrid", lambda d: ([d.tensor(dtypes=FL, rank=1), d.tensor(dtypes=FL, rank=1)], {"indexing": d.choice(("ij", "xy"))})),
    Op("unravel_index", "unravel_index", lambda d: ([T(abs(d.index((d.int(0, 3),), 6).arr), "int64"), (2, 3)], {}), grad=False),
    Op("broadcast_shapes", "broadcast_shapes", lambda d: ([x := d.shape(), d.partner_shape(x)], {}), grad=False),
    Op("real", "real", unary(FL)),
    Op("sum_to_size", ".sum_to_size", lambda d: ([x := d.tensor(min_rank=1), tuple(1 if d.p(0.5) else s for s in x.shape)], {})),
    Op("fill_", ".fill_", lambda d: ([d.tensor(grad=False), d.scalar(("int", "float"))], {}), grad=False),
    Op("zero_", ".zero_", unary(ALL, grad=False), grad=False),
    Op("new_zeros", ".new_zeros", lambda d: ([d.tensor(), d.shape(max_rank=2)], {}), grad=False),
    Op("new_ones", ".new_ones", lambda d: ([d.tensor(), d.shape(max_rank=2)], {}), grad=False),
    Op("new_full", ".new_full", lambda d: ([d.tensor(), d.shape(max_rank=2), 2], {}), grad=False),
    Op("new_tensor", ".new_tensor", lambda d: ([d.tensor(), [1, 2]], {}), grad=False),
    Op("new_empty", ".new_empty", lambda d: ([d.tensor(), d.shape(max_rank=2)], {}), values=False),
    Op("tolist", ".tolist", unary(ALL), grad=False),
    Op("item", ".item", unary(ALL, max_rank=1), grad=False),
    *[Op(n, "." + n, unary(ALL), grad=False) for n in ("dim", "ndimension", "nelement", "element_size", "is_contiguous", "is_conj", "contiguous", "detach", "size", "stride")],
    *[Op(n, "." + n, unary(ALL)) for n in ("float", "double", "half", "bfloat16", "int", "long", "short", "char", "byte", "bool")],
    Op("to[dtype]", ".to", lambda d: ([d.tensor(), "dtype:" + d.choice(ALL)], {})),
    *[Op(n, n, unary(FL, grad=False, lo=0.1, hi=0.9)) for n in _UNARY_INPLACE],
    *[S1(n) for n in ("arccos", "arccosh", "arcsin", "arctanh", "sinc", "i0", "angle", "msort", "isreal")],
    *[Op(n, n, binary(NUM, scalar=0.0)) for n in ("arctan2", "greater", "less_equal", "divide", "nextafter", "ldexp")],
    Op("rsub", "rsub", binary(NUM, scalar=0.2)),
    Op("xlogy_", "xlogy_", binary(FL, scalar=0.0)),
    *[Op(n, n, binary(INTS, scalar=0.0), grad=False) for n in ("bitwise_left_shift", "bitwise_right_shift")],
    *[Op(n, n, clamp_gen(n)) for n in ("clamp_min", "clamp_max")],
    *[Op(n, n, unary(FL, grad=False, kw={"min": -0.5})) for n in ("clamp_", "clip_")],
    Op("clip", "clip", unary(NUM, kw=lambda d: {"min": -1, "max": 2})),
    *[Op(n, n, clamp_gen(n)) for n in ("clamp_min_", "clamp_max_")],
    Op("addcdiv", "addcdiv", ternary(kw=lambda d: {"value": d.choice([1, 0.5])})),
    *[Op(n, n, matrices3(n)) for n in ("addbmm", "baddbmm", "addmv")],
    Op("vdot", "vdot", matmul_like("dot")),
    Op("ger", "ger", matmul_like("outer")),
    Op("chain_matmul", "chain_matmul", lambda d: ([T(d.values((2, 3), dt := d.dtype(FL)), dt, d.grad_mode), T(d.values((3, 2), dt), dt, d.grad_mode)], {})),
    Op("kron", "kron", kron_gen),
    Op("tensordot", "tensordot", tensordot_gen),
    *[Op(n, n, cat_like()) for n in ("concat", "concatenate", "column_stack", "dstack", "row_stack")],
    Op("block_diag", "block_diag", block_diag_gen),
    Op("cartesian_prod", "cartesian_prod", lambda d: ([d.tensor(dtypes=FL, rank=1), d.tensor(dtypes=FL, rank=1)], {})),
    Op("combinations", "combinations", lambda d: ([d.tensor(dtypes=FL, rank=1)], {"r": d.int(0, 3)})),
    Op("broadcast_tensors", "broadcast_tensors", lambda d: ([x := d.tensor(), T(d.values(d.partner_shape(x.shape), x.dtype), x.dtype, x.grad)], {})),
    Op("broadcast_to", "broadcast_to", lambda d: ([x := d.tensor(max_rank=2), (2,) + tuple(x.shape)], {})),
    Op("swapaxes", "swapaxes", lambda d: ([x := d.tensor(min_rank=1), d.dim(x.ndim), d.dim(x.ndim)], {})),
    Op("swapdims", "swapdims", lambda d: ([x := d.tensor(min_rank=1), d.dim(x.ndim), d.dim(x.ndim)], {})),
    Op("moveaxis", "moveaxis", lambda d: ([x := d.tensor(min_rank=1), d.dim(x.ndim, 0.03), d.dim(x.ndim, 0.03)], {})),
    Op("rot90", "rot90", rot90_gen),
    Op("diff", "diff", diff_gen),
    Op("cov", "cov", cov_gen),
    Op("corrcoef", "corrcoef", lambda d: ([d.tensor(dtypes=FL, rank=2, min_size=2, special=False)], {})),
    Op("cummax", "cummax", cummax_gen),
    Op("cummin", "cummin", cummax_gen),
    Op("logcumsumexp", "logcumsumexp", lambda d: ([x := d.tensor(dtypes=FL)], {"dim": d.dim(x.ndim, 0.02)})),
    Op("nanmedian", "nanmedian", with_dim(FLOATS, keepdim=True, optional=False, distinct=True)),
    Op("quantile", "quantile", quantile_gen),
    Op("nanquantile", "nanquantile", quantile_gen),
    Op("searchsorted", "searchsorted", sorted_gen, grad=False),
    Op("bucketize", "bucketize", bucketize_gen, grad=False),
    Op("bincount", "bincount", lambda d: ([T(abs(d.index((d.int(0, 6),), 4).arr), "int64")], {"minlength": d.int(0, 5)}), grad=False),
    Op("histc", "histc", lambda d: ([d.tensor(dtypes=FL, special=False)], {"bins": d.int(1, 5), "min": -2, "max": 2}), grad=False),
    Op("isin", "isin", lambda d: ([d.tensor(dtypes=("int64",)), d.tensor(dtypes=("int64",), max_rank=1)], {}), grad=False),
    Op("argwhere", "argwhere", unary(ALL), grad=False),
    Op("scatter_reduce", "scatter_reduce", scatter_reduce_gen),
    Op("take_along_dim", "take_along_dim", take_along_gen),
    Op("unique", "unique", unique_gen, grad=False),
    Op("unique_consecutive", "unique_consecutive", unique_gen, grad=False),
    Op("frexp", "frexp", unary(FL), grad=False),
    Op("trapezoid", "trapezoid", lambda d: ([d.tensor(dtypes=FL, min_rank=1)], {})),
    Op("trapz", "trapz", lambda d: ([d.tensor(dtypes=FL, min_rank=1)], {})),
    Op("cumulative_trapezoid", "cumulative_trapezoid", lambda d: ([d.tensor(dtypes=FL, min_rank=1)], {})),
    Op("vander", "vander", lambda d: ([d.tensor(dtypes=FL, rank=1, special=False)], {"N": d.int(0, 4)})),
    Op("tril_indices", "tril_indices", lambda d: ([d.int(0, 4), d.int(0, 4)], {"offset": d.int(-1, 1)}), grad=False),
    Op("triu_indices", "triu_indices", lambda d: ([d.int(0, 4), d.int(0, 4)], {"offset": d.int(-1, 1)}), grad=False),
    Op("mvlgamma", "mvlgamma", lambda d: ([d.tensor(dtypes=FL, lo=2.0, hi=5.0, special=False)], {"p": d.int(1, 3)})),
    Op("polygamma", "polygamma", lambda d: ([d.int(0, 3), d.tensor(dtypes=FL, lo=0.2, hi=4.0, special=False)], {})),
    Op("igamma", "igamma", binary(FL, scalar=0.0, lo=0.1, hi=3.0), grad=False),
    Op("igammac", "igammac", binary(FL, scalar=0.0, lo=0.1, hi=3.0), grad=False),
    Op("det", "det", det_gen),
    Op("logdet", "logdet", lambda d: ([T(d.values((2, 2), dt := d.dtype(FL), special=False), dt, d.grad_mode)], {})),
    Op("inverse", "inverse", lambda d: ([T(d.values((2, 2), dt := d.dtype(FL), special=False) + 3 * __import__("numpy").eye(2, dtype=dt), dt, d.grad_mode)], {})),
    Op("matrix_exp", "matrix_exp", lambda d: ([T(d.values((2, 2), dt := d.dtype(FL), special=False), dt, d.grad_mode)], {})),
    Op("matrix_power", "matrix_power", lambda d: ([T(d.values((2, 2), dt := d.dtype(FL), special=False), dt, d.grad_mode), d.int(0, 3)], {})),
    Op("allclose", "allclose", binary(FL, scalar=0.0), grad=False),
    Op("equal", "equal", binary(ALL, scalar=0.0), grad=False),
    Op("is_complex", "is_complex", unary(ALL), grad=False),
    Op("is_floating_point", "is_floating_point", unary(ALL), grad=False),
    Op("is_nonzero", "is_nonzero", lambda d: ([d.tensor(shape=d.choice(((), (1,), (1, 1), (0,), (2,), (1, 0, 1))))], {}), grad=False),
    Op("numel", "numel", unary(ALL), grad=False),
    Op("result_type", "result_type", binary(ALL), grad=False),
    Op("conj", "conj", unary(FL)),
    Op("resolve_conj", "resolve_conj", unary(FL)),
    Op("resolve_neg", "resolve_neg", unary(FL)),
    Op("conj_physical", "conj_physical", unary(FL)),
    # creation: values where they are defined
    *[Op(n, n, creation_gen, grad=False) for n in ("zeros", "ones")],
    Op("full", "full", lambda d: ([d.shape(max_rank=3), d.scalar(("int", "float", "bool"))], {}), grad=False),
    *[Op(n, n, like_gen, grad=False) for n in ("zeros_like", "ones_like")],
    Op("full_like", "full_like", lambda d: ([d.tensor(dtypes=FL), d.choice((0.5, 2, True))], {}), grad=False),
    Op("arange", "arange", lambda d: ([d.int(-3, 3), d.int(-3, 6)], {"step": d.choice((1, 2, 0.5))} if d.p(0.5) else {}), grad=False),
    Op("linspace", "linspace", lambda d: ([d.choice((-1, 0.5)), d.choice((1, 3.0)), d.int(0, 5)], {}), grad=False),
    Op("logspace", "logspace", lambda d: ([d.choice((-1, 0.5)), d.choice((1, 2.0)), d.int(0, 5)], {}), grad=False),
    Op("eye", "eye", lambda d: ([d.int(0, 4)] + ([d.int(0, 4)] if d.p(0.5) else []), {}), grad=False),
    Op("scalar_tensor", "scalar_tensor", lambda d: ([d.scalar()], {}), grad=False),
    Op("tensor", "tensor", lambda d: ([d.tensor().arr.tolist()], {}), grad=False),
    Op("as_tensor", "as_tensor", lambda d: ([d.tensor().arr.tolist()], {}), grad=False),
    Op("asarray", "asarray", lambda d: ([d.tensor().arr.tolist()], {}), grad=False),
    *[Op(n, n, window_gen, grad=False) for n in ("bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window")],
    Op("tril_indices[empty]", "tril_indices", lambda d: ([0, d.int(0, 2)], {}), grad=False),
    # random: exceptions, shapes and dtypes only
    *[Op(n, n, creation_gen, values=False) for n in ("rand", "randn", "empty")],
    *[Op(n, n, like_gen, values=False) for n in ("rand_like", "randn_like", "empty_like")],
    Op("randint", "randint", randint_gen, values=False),
    Op("randint_like", "randint_like", lambda d: ([d.tensor(dtypes=FL), d.int(1, 5)], {}), values=False),
    Op("randperm", "randperm", lambda d: ([d.int(0, 6)], {}), values=False),
    Op("bernoulli", "bernoulli", lambda d: ([d.tensor(dtypes=FL, lo=0.0, hi=1.0, special=False)], {}), values=False),
    Op("multinomial", "multinomial", lambda d: ([d.tensor(dtypes=FL, lo=0.1, hi=1.0, special=False, min_rank=1, max_rank=2, min_size=1), d.int(1, 3)], {"replacement": True}), values=False),
    Op("poisson", "poisson", lambda d: ([d.tensor(dtypes=FL + (("int64",) if d.p(0.1) else ()), lo=-1.0 if d.p(0.1) else 0.0, hi=5.0, special=False)], {}), values=False),
    Op("normal", "normal", lambda d: ([d.tensor(dtypes=FL, special=False), d.tensor(dtypes=FL, lo=0.1, hi=2.0, special=False)], {}), values=False),
    Op("dropout", "dropout", lambda d: ([d.tensor(dtypes=FL)], {"p": 0.5, "train": d.p(0.5)}), values=False),
    Op("alpha_dropout", "alpha_dropout", lambda d: ([d.tensor(dtypes=FL)], {"p": 0.5, "train": d.p(0.5)}), values=False),
    Op("feature_alpha_dropout", "feature_alpha_dropout", lambda d: ([d.tensor(dtypes=FL, min_rank=2)], {"p": 0.5, "train": d.p(0.5)}), values=False),
]
