"""The differential table's ``nn.functional`` part beyond pointwise ops: convolution, pooling, normalisation,
resampling, fold/unfold, padding modes, embeddings, attention and every loss (see optable.py for the format)."""

from __future__ import annotations

from gen import FLOATS, T
from optable import Op, binary, unary, with_dim

F = "nn.functional."
FL = ("float32", "float64")


def _t(d, shape, dt, lo=-3.0, hi=3.0, grad=True, special=False):
    return T(d.values(tuple(shape), dt, lo, hi, special=special), dt, grad and d.grad_mode and dt == "float64")


# ---- convolution --------------------------------------------------------------------------------


def conv_gen(nd, transposed=False):
    def g(d):
        dt = d.dtype(FL)
        groups = d.choice((1, 1, 2))
        cin, cout = groups * d.int(1, 2), groups * d.int(1, 2)
        k = tuple(d.int(1, 3) for _ in range(nd))
        stride = d.choice((1, 2))
        dil = d.choice((1, 1, 2))
        spatial = tuple(d.int(0 if d.p(0.05) else (k[i] - 1) * dil + 1, 5) for i in range(nd))
        batch = () if d.p(0.15) else (d.int(0 if d.p(0.05) else 1, 2),)
        if d.p(0.04):
            cin += 1  # channel mismatch: PyTorch's RuntimeError
        x = _t(d, batch + (cin,) + spatial, dt)
        w = _t(d, ((cin, cout // groups) if transposed else (cout, cin // groups)) + k, dt)
        kw = {"stride": stride, "dilation": dil, "groups": groups}
        if transposed:
            kw["padding"] = d.int(0, 1)
            kw["output_padding"] = d.int(0, max(stride, dil) - 1)
            out = [(s - 1) * stride - 2 * kw["padding"] + dil * (kk - 1) + kw["output_padding"] + 1 for s, kk in zip(spatial, k)]
            if 0 in out:  # PyTorch's float32 batched path returns an empty output here, its others raise: left out
                kw["padding"] = 0
        else:
            kw["padding"] = d.choice((0, 1, "valid", "same")) if stride == 1 else d.int(0, 1)
        args = [x, w]
        if d.p(0.5):
            args.append(_t(d, (cout,), dt))
        return args, kw

    return g


# ---- pooling ------------------------------------------------------------------------------------


def pool_gen(nd, kind):
    def g(d):
        dt = d.dtype(FL)
        k = d.int(1, 3)
        stride = d.choice((None, 1, 2))
        pad = d.int(0, k // 2)
        n_batch = 0 if (kind == "avg" and nd == 1) else (1 if d.p(0.8) else 0)  # avg_pool1d wants a batch dim
        shape = (d.int(1, 2),) * n_batch + (d.int(1, 2),) + tuple(d.int(k, 5) for _ in range(nd))
        if nd == 1 and kind == "avg":
            shape = (d.int(1, 2),) + shape
        x = _t(d, shape, dt, special=kind == "max" and d.p(0.2))
        kw = {"kernel_size": k, "stride": stride, "padding": pad, "ceil_mode": d.p(0.3)}
        if kind == "max":
            kw["dilation"] = d.choice((1, 1, 2)) if k > 1 and shape[-1] >= 2 * k else 1
            kw["return_indices"] = d.p(0.4)
        elif kind == "avg":
            kw["count_include_pad"] = d.p(0.5)
            if nd > 1 and d.p(0.2):
                kw["divisor_override"] = d.int(1, 3)
        else:  # lp
            kw = {"norm_type": d.choice((1, 2, 3.0)), "kernel_size": k, "stride": stride, "ceil_mode": False}
            x = _t(d, shape, dt, 0.1, 3.0)
        return [x], kw

    return g


def adaptive_gen(nd, kind):
    def g(d):
        dt = d.dtype(FL)
        shape = ((d.int(1, 2),) if d.p(0.8) else ()) + (d.int(1, 2),) + tuple(d.int(1, 5) for _ in range(nd))
        out = tuple(d.choice((1, 2, 3, None)) if nd > 1 else d.int(1, 3) for _ in range(nd))
        kw = {"return_indices": d.p(0.4)} if kind == "max" else {}
        return [_t(d, shape, dt), out if nd > 1 else out[0]], kw

    return g


def unpool_call(nd):
    def call(lib, x, k, stride):
        pool = getattr(lib.nn.functional, f"max_pool{nd}d")
        y, idx = pool(x, k, stride, return_indices=True)
        return getattr(lib.nn.functional, f"max_unpool{nd}d")(y, idx, k, stride)

    call.__name__ = f"max_unpool{nd}d∘max_pool{nd}d"
    call.covers = (f"nn.functional.max_unpool{nd}d", f"nn.functional.max_pool{nd}d")
    return call


def unpool_gen(nd):
    def g(d):
        dt = d.dtype(FL)
        k = d.int(1, 2)
        shape = (d.int(1, 2), d.int(1, 2)) + tuple(d.int(k, 4) for _ in range(nd))
        return [T(d.rng.permutation(int(__import__("numpy").prod(shape))).reshape(shape).astype(dt) / 4, dt, d.grad_mode), k, d.choice((k, 2))], {}

    return g


# ---- normalisation ------------------------------------------------------------------------------


def batch_norm_gen(d):
    dt = d.dtype(FL)
    n, c, L = d.int(1, 3), d.int(1, 3), d.int(1, 3)
    shape = (n, c) + ((L,) if d.p(0.6) else ()) + ((2,) if d.p(0.3) else ())
    training = d.p(0.5)
    if training and shape[0] * (shape[2] if len(shape) > 2 else 1) == 1:
        shape = (2,) + shape[1:]
    x = _t(d, shape, dt)
    rm = T(d.values((c,), dt, special=False), dt)
    rv = T(d.values((c,), dt, 0.5, 2.0, special=False), dt)
    kw = {"training": training}
    if d.p(0.5):
        kw["weight"], kw["bias"] = _t(d, (c,), dt), _t(d, (c,), dt)
    if d.p(0.3):
        kw["eps"] = d.choice((1e-3, 0.1))
    return [x, rm, rv], kw


def instance_norm_gen(d):
    dt = d.dtype(FL)
    c = d.int(1, 3)
    x = _t(d, (d.int(1, 2), c) + tuple(d.int(2, 3) for _ in range(d.int(1, 2))), dt)
    kw = {}
    if d.p(0.4):
        kw["weight"], kw["bias"] = _t(d, (c,), dt), _t(d, (c,), dt)
    return [x], kw


def lrn_gen(d):
    dt = d.dtype(FL)
    x = _t(d, (d.int(1, 2), d.int(1, 4)) + tuple(d.int(1, 3) for _ in range(d.int(1, 2))), dt)
    return [x, d.int(1, 3)], {"alpha": d.choice((1e-4, 0.5)), "beta": d.choice((0.75, 1.0)), "k": d.choice((1.0, 2.0))}


def rms_norm_gen(d):
    x = d.tensor(dtypes=FL, min_rank=1, special=False)
    shape = x.shape[-d.int(1, x.ndim):]
    kw = {"weight": _t(d, shape, x.dtype)} if d.p(0.5) else {}
    if d.p(0.3):
        kw["eps"] = 1e-3
    return [x, shape], kw


# ---- resampling ---------------------------------------------------------------------------------


def interpolate_gen(d):
    dt = d.dtype(FL)
    nd = d.int(1, 3)
    mode = d.choice({1: ("nearest", "nearest-exact", "linear", "area"), 2: ("nearest", "nearest-exact", "bilinear", "bicubic", "area"), 3: ("nearest", "nearest-exact", "trilinear", "area")}[nd])
    x = _t(d, (d.int(1, 2), d.int(1, 2)) + tuple(d.int(1, 4) for _ in range(nd)), dt)
    kw = {"mode": mode}
    if d.p(0.5):
        kw["size"] = tuple(d.int(1, 6) for _ in range(nd)) if d.p(0.7) else d.int(1, 6)
    else:
        kw["scale_factor"] = d.choice((2, 0.5, 1.5, 3.0)) if d.p(0.7) else tuple(d.choice((2.0, 0.5, 1.0)) for _ in range(nd))
        if d.p(0.3):
            kw["recompute_scale_factor"] = True
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and d.p(0.5):
        kw["align_corners"] = d.p(0.5)
    return [x], kw


def grid_sample_gen(d):
    """input [N, C, *S] and grid [N, *O, d]; mostly valid, sometimes each of ATen's refusals. Grid values are
    finite: at nan/inf PyTorch's own 2-D and 3-D CPU kernels disagree (nan, 0 or a border value)."""
    dt = d.dtype(FL)
    nd = d.int(2, 3)
    mode = d.choice(("bilinear", "nearest", "bicubic") if nd == 2 or d.p(0.05) else ("bilinear", "nearest"))
    n = d.int(0 if d.p(0.05) else 1, 2)
    spatial = tuple(d.int(0 if d.p(0.03) else 1, 4) for _ in range(nd))
    out = tuple(d.int(0 if d.p(0.05) else 1, 3) for _ in range(nd))
    x = _t(d, (n, d.int(0 if d.p(0.05) else 1, 2)) + spatial, "int64" if d.p(0.03) else dt, special=False)
    gn = n + 1 if d.p(0.03) else n
    last = nd + 1 if d.p(0.03) else nd
    gdt = d.choice(FL) if d.p(0.05) else dt
    scale = d.choice((1.0, 1.0, 1.6, 3.0))
    grid = _t(d, (gn,) + out + (last,), gdt, -scale, scale, special=False)
    kw = {"mode": mode, "padding_mode": d.choice(("zeros", "border", "reflection"))}
    if d.p(0.9):
        kw["align_corners"] = d.p(0.5)
    return [x, grid], kw


def grid_sampler_gen(nd=None):
    def g(d):
        (x, grid), kw = grid_sample_gen(d)
        modes, pads = ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection")
        return [x, grid, modes.index(kw["mode"]), pads.index(kw["padding_mode"]), kw.get("align_corners", False)], {}

    return g


def affine_grid_gen(d):
    dt = d.dtype(FL) if d.p(0.95) else "int64"
    nd = d.int(2, 3)
    n = d.int(1, 2)
    theta_shape = (n, nd, nd + 1) if d.p(0.93) else d.choice(((n, 2, 3), (n, 3, 4), (nd, nd + 1), (n + 1, nd, nd + 1)))
    size = [n, d.int(1, 3)] + [d.int(0 if d.p(0.04) else 1, 4) for _ in range(nd if d.p(0.96) else nd - 1)]
    kw = {"align_corners": d.p(0.5)} if d.p(0.9) else {}
    return [_t(d, theta_shape, dt, special=False), size if d.p(0.5) else tuple(size)], kw


def pixel_shuffle_gen(unshuffle):
    def g(d):
        r = d.int(1, 3)
        c = d.int(1, 2)
        if unshuffle:
            shape = (d.int(1, 2), c, r * d.int(1, 2), r * d.int(1, 2))
        else:
            shape = (d.int(1, 2), c * r * r, d.int(1, 2), d.int(1, 2))
        if d.p(0.2):
            shape = shape[1:]
        return [d.tensor(shape, dtypes=FLOATS + ("int64",))], {"downscale_factor" if unshuffle else "upscale_factor": r}

    return g


def unfold_gen(d):
    dt = d.dtype(FL)
    k = (d.int(1, 2), d.int(1, 2))
    x = _t(d, ((d.int(1, 2),) if d.p(0.8) else ()) + (d.int(1, 2), d.int(2, 4), d.int(2, 4)), dt)
    return [x, k], {"dilation": d.choice((1, 2)) if x.shape[-1] >= 3 and x.shape[-2] >= 3 else 1, "padding": d.int(0, 1), "stride": d.int(1, 2)}


def fold_gen(d):
    dt = d.dtype(FL)
    k, s, p = d.int(1, 2), d.int(1, 2), d.int(0, 1)
    out = (d.int(k, 4), d.int(k, 4))
    blocks = [(o + 2 * p - (k - 1) - 1) // s + 1 for o in out]
    c = d.int(1, 2)
    L = blocks[0] * blocks[1] + (1 if d.p(0.05) else 0)
    x = _t(d, ((d.int(1, 2),) if d.p(0.8) else ()) + (c * k * k, L), dt)
    return [x, out, k], {"padding": p, "stride": s}


def pad_mode_gen(d):
    mode = d.choice(("reflect", "replicate", "circular", "constant"))
    nd = d.int(1, 3)
    dt = d.dtype(FL)
    x = _t(d, ((d.int(1, 2),) if d.p(0.7) else ()) + (d.int(1, 2),) + tuple(d.int(1, 4) for _ in range(nd)), dt)
    pad = tuple(d.int(0, 2) for _ in range(2 * nd))
    return [x, pad], {"mode": mode}


# ---- embeddings ---------------------------------------------------------------------------------


def embedding_kw_gen(d):
    num, dim = d.int(1, 4), d.int(1, 3)
    dt = d.dtype(FL)
    idx = d.index(d.shape(max_rank=2), num)
    idx.arr = abs(idx.arr)
    kw = {}
    if d.p(0.4):
        kw["padding_idx"] = d.int(-num, num - 1)
    return [idx, _t(d, (num, dim), dt)], kw


def embedding_bag_gen(d):
    num, dim = d.int(1, 4), d.int(1, 3)
    dt = d.dtype(FL)
    w = _t(d, (num, dim), dt)
    mode = d.choice(("sum", "mean", "max"))
    kw = {"mode": mode}
    if d.p(0.5):  # 2-D input: fixed-length bags
        idx = T(d.rng.integers(0, num, size=(d.int(1, 3), d.int(1, 3))).astype("int64"), "int64")
    else:
        n = d.int(0, 5)
        idx = T(d.rng.integers(0, num, size=(n,)).astype("int64"), "int64")
        offs = sorted(int(v) for v in d.rng.integers(0, n + 1, size=d.int(1, 3)))
        offs[0] = 0
        if d.p(0.3):  # CSR offsets: the last one is the number of indices (PyTorch crashes or differs otherwise)
            offs.append(n)
            kw["include_last_offset"] = True
        kw["offsets"] = T(__import__("numpy").array(offs, dtype="int64"), "int64")
    if mode == "sum" and d.p(0.3):
        kw["per_sample_weights"] = _t(d, idx.shape, dt)
    if d.p(0.2):
        kw["padding_idx"] = d.int(0, num - 1)
    return [idx, w], kw


# ---- attention ----------------------------------------------------------------------------------


def sdpa_gen(d):
    dt = d.dtype(FL)
    b = (d.int(1, 2),) * d.int(0, 2)
    L, S, E, Ev = d.int(1, 3), d.int(1, 3), d.int(1, 3), d.int(1, 3)
    q, k, v = _t(d, b + (L, E), dt), _t(d, b + (S, E), dt), _t(d, b + (S, Ev), dt)
    kw = {}
    r = d.rng.random()
    if r < 0.3:
        kw["is_causal"] = True
    elif r < 0.5:
        kw["attn_mask"] = T(d.rng.random((L, S)) < 0.8, "bool")
        kw["attn_mask"].arr[:, 0] = True  # no fully masked row (nan in both, but PyTorch's math path differs)
    elif r < 0.65:
        kw["attn_mask"] = _t(d, (L, S), dt)
    if d.p(0.3):
        kw["scale"] = d.choice((0.5, 2.0))
    return [q, k, v], kw


def bilinear_gen(d):
    dt = d.dtype(FL)
    n, i1, i2, o = d.int(0, 2), d.int(1, 3), d.int(1, 3), d.int(1, 3)
    args = [_t(d, (n, i1), dt), _t(d, (n, i2), dt), _t(d, (o, i1, i2), dt)]
    if d.p(0.5):
        args.append(_t(d, (o,), dt))
    return args, {}


def prelu_gen(d):
    x = d.tensor(dtypes=FL, min_rank=1)
    c = x.shape[1] if x.ndim >= 2 else 1
    return [x, _t(d, (d.choice((1, c)),), x.dtype)], {}


# ---- losses -------------------------------------------------------------------------------------


def _red(d):
    return {"reduction": d.choice(("mean", "sum", "none"))} if d.p(0.5) else {}


def ctc_gen(d):
    dt = d.dtype(FL)
    T_, N, C = d.int(1, 6), d.int(1, 3), d.int(2, 4)
    import numpy as np

    logits = d.rng.standard_normal((T_, N, C))
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    in_len = d.rng.integers(1, T_ + 1, size=N)
    tgt_len = np.minimum(d.rng.integers(0, 4, size=N), in_len)
    S = int(tgt_len.max()) if N else 0
    targets = d.rng.integers(1, C, size=(N, max(S, 1))).astype("int64")
    kw = _red(d)
    if d.p(0.3):
        kw["zero_infinity"] = True
    return [T(lp.astype(dt), dt, d.grad_mode), T(targets, "int64"), T(in_len.astype("int64"), "int64"), T(tgt_len.astype("int64"), "int64")], kw


def pair_loss_gen(kind):
    def g(d):
        dt = d.dtype(FL)
        shape = d.shape(min_rank=1, max_rank=2, min_size=1)
        x = _t(d, shape, dt)
        if kind == "hinge":
            y = T(d.rng.choice([-1.0, 1.0], size=shape).astype(dt), dt)
            return [x, y], _red(d) | ({"margin": 0.5} if d.p(0.3) else {})
        if kind == "poisson":
            log_input = d.p(0.5)
            x = _t(d, shape, dt, -2.0 if log_input else 0.0, 2.0)
            return [x, _t(d, shape, dt, 0.0, 3.0, grad=False)], _red(d) | {"log_input": log_input, "full": d.p(0.3)}
        if kind == "gaussian":
            var = _t(d, d.choice((shape, shape[:-1] + (1,))), dt, 0.1, 2.0)
            return [x, _t(d, shape, dt), var], _red(d) | {"full": d.p(0.3)}
        if kind == "multilabel_soft":
            y = T(d.rng.integers(0, 2, size=shape).astype(dt), dt)
            return [x, y], _red(d)
        raise AssertionError(kind)

    return g


def margin_ranking_gen(d):
    dt = d.dtype(FL)
    shape = (d.int(0, 3),)
    y = T(d.rng.choice([-1.0, 1.0], size=shape).astype(dt), dt)
    return [_t(d, shape, dt), _t(d, shape, dt), y], _red(d) | ({"margin": 0.3} if d.p(0.3) else {})


def cosine_embedding_gen(d):
    dt = d.dtype(FL)
    n, k = d.int(1, 3), d.int(1, 3)
    y = T(d.rng.choice([-1.0, 1.0], size=(n,)).astype(dt), dt)
    return [_t(d, (n, k), dt), _t(d, (n, k), dt), y], _red(d) | ({"margin": 0.2} if d.p(0.3) else {})


def triplet_gen(d):
    dt = d.dtype(FL)
    shape = (d.int(1, 3), d.int(1, 3))
    kw = _red(d)
    if d.p(0.3):
        kw["swap"] = True
    if d.p(0.3):
        kw["margin"] = 0.5
    return [_t(d, shape, dt), _t(d, shape, dt), _t(d, shape, dt)], kw


def multi_margin_gen(d):
    dt = d.dtype(FL)
    n, c = d.int(1, 3), d.int(1, 4)
    x = _t(d, (n, c), dt)
    y = T(d.rng.integers(0, c, size=(n,)).astype("int64"), "int64")
    kw = _red(d)
    if d.p(0.3):
        kw["p"] = 2
    if d.p(0.3):
        kw["weight"] = _t(d, (c,), dt, 0.1, 2.0, grad=False)
    return [x, y], kw


def multilabel_margin_gen(d):
    dt = d.dtype(FL)
    n, c = d.int(1, 3), d.int(1, 4)
    y = d.rng.integers(-1, c, size=(n, c)).astype("int64")
    return [_t(d, (n, c), dt), T(y, "int64")], _red(d)


def nll_weighted_gen(d):
    dt = d.dtype(FL)
    n, c = d.int(1, 3), d.int(2, 4)
    spatial = (d.int(1, 2),) if d.p(0.3) else ()
    x = _t(d, (n, c) + spatial, dt)
    kw = _red(d)
    kw["weight"] = _t(d, (c,), dt, 0.1, 2.0, grad=False)
    if d.p(0.4):
        kw["label_smoothing"] = 0.1
    tgt = T(d.rng.integers(0, c, size=(n,) + spatial).astype("int64"), "int64")
    return [x, tgt], kw


def ce_probs_gen(d):
    dt = d.dtype(FL)
    n, c = d.int(1, 3), d.int(2, 4)
    x = _t(d, (n, c), dt)
    p = d.rng.random((n, c))
    kw = _red(d) | ({"label_smoothing": 0.2} if d.p(0.3) else {})
    return [x, T((p / p.sum(1, keepdims=True)).astype(dt), dt)], kw


def dist_gen(kind):
    def g(d):
        dt = d.dtype(FL)
        if kind == "cdist":
            b = (d.int(1, 2),) * d.int(0, 1)
            m = d.int(1, 3)
            x1, x2 = _t(d, b + (d.int(1, 3), m), dt), _t(d, b + (d.int(1, 3), m), dt)
            return [x1, x2], {"p": d.choice((2.0, 1.0, 3.0))}
        shape = d.shape(max_rank=2, min_size=1)
        return [_t(d, shape, dt), _t(d, shape, dt)], {"p": d.choice((2, 1, 3))}

    return g


# ---- random -------------------------------------------------------------------------------------


def dropout_gen(d):
    x = d.tensor(dtypes=FL)
    return [x], {"p": d.choice((0.0, 0.5, 1.0)), "training": d.p(0.7)}


def dropout_nd_gen(nd):
    def g(d):
        x = d.tensor(dtypes=FL, min_rank=nd + 1, max_rank=nd + 2)
        return [x], {"p": d.choice((0.0, 0.5)), "training": d.p(0.7)}

    return g


OPS_NN = [
    *[Op(f"F.conv{n}d", F + f"conv{n}d", conv_gen(n)) for n in (1, 2, 3)],
    *[Op(f"F.conv_transpose{n}d", F + f"conv_transpose{n}d", conv_gen(n, True)) for n in (1, 2, 3)],
    *[Op(f"F.max_pool{n}d", F + f"max_pool{n}d", pool_gen(n, "max")) for n in (1, 2, 3)],
    *[Op(f"F.avg_pool{n}d", F + f"avg_pool{n}d", pool_gen(n, "avg")) for n in (1, 2, 3)],
    *[Op(f"F.lp_pool{n}d", F + f"lp_pool{n}d", pool_gen(n, "lp")) for n in (1, 2, 3)],
    *[Op(f"F.adaptive_avg_pool{n}d", F + f"adaptive_avg_pool{n}d", adaptive_gen(n, "avg")) for n in (1, 2, 3)],
    *[Op(f"F.adaptive_max_pool{n}d", F + f"adaptive_max_pool{n}d", adaptive_gen(n, "max")) for n in (1, 2, 3)],
    *[Op(f"F.max_unpool{n}d", unpool_call(n), unpool_gen(n)) for n in (1, 2, 3)],
    Op("F.batch_norm", F + "batch_norm", batch_norm_gen),
    Op("F.instance_norm[affine]", F + "instance_norm", instance_norm_gen),
    Op("F.local_response_norm", F + "local_response_norm", lrn_gen),
    Op("F.rms_norm", F + "rms_norm", rms_norm_gen),
    Op("F.interpolate", F + "interpolate", interpolate_gen),
    Op("F.upsample", F + "upsample", interpolate_gen),
    Op("F.upsample_nearest", F + "upsample_nearest", lambda d: ([d.tensor(dtypes=FL, min_rank=3, max_rank=4, min_size=1)], {"scale_factor": 2})),
    Op("F.upsample_bilinear", F + "upsample_bilinear", lambda d: ([d.tensor(dtypes=FL, rank=4, min_size=1)], {"scale_factor": 2})),
    Op("F.grid_sample", F + "grid_sample", grid_sample_gen),
    Op("grid_sampler", "grid_sampler", grid_sampler_gen()),
    Op("grid_sampler_2d", "grid_sampler_2d", grid_sampler_gen()),
    Op("grid_sampler_3d", "grid_sampler_3d", grid_sampler_gen()),
    Op("F.affine_grid", F + "affine_grid", affine_grid_gen),
    Op("affine_grid_generator", "affine_grid_generator", lambda d: (lambda a, k: (a + [k.get("align_corners", False)], {}))(*affine_grid_gen(d))),
    Op("F.pixel_shuffle", F + "pixel_shuffle", pixel_shuffle_gen(False)),
    Op("F.pixel_unshuffle", F + "pixel_unshuffle", pixel_shuffle_gen(True)),
    Op("F.unfold", F + "unfold", unfold_gen),
    Op("F.fold", F + "fold", fold_gen),
    Op("F.pad[modes]", F + "pad", pad_mode_gen),
    Op("F.embedding[padding_idx]", F + "embedding", embedding_kw_gen),
    Op("F.embedding_bag", F + "embedding_bag", embedding_bag_gen),
    Op("F.scaled_dot_product_attention", F + "scaled_dot_product_attention", sdpa_gen),
    Op("F.bilinear", F + "bilinear", bilinear_gen),
    Op("F.prelu", F + "prelu", prelu_gen),
    Op("F.rrelu[eval]", F + "rrelu", unary(FLOATS, kw={"training": False})),
    *[Op("F." + n, F + n, unary(FL, grad=False)) for n in ("relu_", "elu_", "celu_", "selu_", "leaky_relu_", "hardtanh_", "rrelu_")],
    Op("F.threshold_", F + "threshold_", lambda d: ([d.tensor(dtypes=FL, grad=False), 0.5, -1.0], {})),
    Op("F.ctc_loss", F + "ctc_loss", ctc_gen),
    Op("F.hinge_embedding_loss", F + "hinge_embedding_loss", pair_loss_gen("hinge")),
    Op("F.poisson_nll_loss", F + "poisson_nll_loss", pair_loss_gen("poisson")),
    Op("F.gaussian_nll_loss", F + "gaussian_nll_loss", pair_loss_gen("gaussian")),
    Op("F.multilabel_soft_margin_loss", F + "multilabel_soft_margin_loss", pair_loss_gen("multilabel_soft")),
    Op("F.margin_ranking_loss", F + "margin_ranking_loss", margin_ranking_gen),
    Op("F.cosine_embedding_loss", F + "cosine_embedding_loss", cosine_embedding_gen),
    Op("F.triplet_margin_loss", F + "triplet_margin_loss", triplet_gen),
    Op("F.triplet_margin_with_distance_loss", F + "triplet_margin_with_distance_loss", triplet_gen),
    Op("F.multi_margin_loss", F + "multi_margin_loss", multi_margin_gen),
    Op("F.multilabel_margin_loss", F + "multilabel_margin_loss", multilabel_margin_gen),
    Op("F.cross_entropy[weight]", F + "cross_entropy", nll_weighted_gen),
    Op("F.cross_entropy[probs]", F + "cross_entropy", ce_probs_gen),
    Op("F.nll_loss[weight]", F + "nll_loss", lambda d: (lambda a, k: (a, {kk: v for kk, v in k.items() if kk != "label_smoothing"}))(*nll_weighted_gen(d))),
    Op("cdist", "cdist", dist_gen("cdist")),
    Op("dist", "dist", dist_gen("dist")),
    Op("F.softplus[beta]", F + "softplus", unary(FLOATS, kw=lambda d: {"beta": d.choice((1, 2.0, 0.5)), "threshold": d.choice((20, 1.0))})),
    Op("F.elu[alpha]", F + "elu", unary(FLOATS, kw=lambda d: {"alpha": d.choice((1.0, 0.5, 2.0))})),
    Op("F.leaky_relu[slope]", F + "leaky_relu", unary(FLOATS, kw=lambda d: {"negative_slope": d.choice((0.01, 0.2, -0.5))})),
    Op("F.hardtanh[range]", F + "hardtanh", unary(FLOATS, kw=lambda d: {"min_val": d.choice((-1.0, -0.5)), "max_val": d.choice((1.0, 2.0))})),
    Op("F.mse_loss[reduction]", F + "mse_loss", binary(FL, scalar=0.0, kw=_red)),
    # random: exceptions, shapes and dtypes only
    Op("F.dropout", F + "dropout", dropout_gen, values=False),
    Op("F.alpha_dropout", F + "alpha_dropout", dropout_gen, values=False),
    Op("F.feature_alpha_dropout", F + "feature_alpha_dropout", dropout_nd_gen(1), values=False),
    *[Op(f"F.dropout{n}d", F + f"dropout{n}d", dropout_nd_gen(n), values=False) for n in (1, 2, 3)],
    Op("F.rrelu[train]", F + "rrelu", unary(FL, kw={"training": True}), values=False),
    Op("F.gumbel_softmax", F + "gumbel_softmax", with_dim(FL, keepdim=False, optional=False, min_rank=1, extra=lambda d, x: {"hard": d.p(0.5), "tau": d.choice((1.0, 0.5))}), values=False),
]
