"""CUDA C source of the fused GPU kernels (float32), compiled once by ``_cuda_kernels`` with CuPy.

Every kernel is ``extern "C"`` with plain pointer / ``long long`` / ``int`` / ``float`` arguments, and uses
nothing beyond ``threadIdx``/``blockIdx``/``blockDim``/``gridDim``, ``__syncthreads()``, ``__shared__`` arrays
and the single-precision math functions, so the same text also builds as C++ on a CPU with a small shim that
runs each block's threads as real threads (tests/core/ops/_cuda_emulator.py): the kernels' numerics are
checked against the composed NumPy path without a GPU. Launch rules (``_cuda_kernels``): elementwise kernels
take any 1-D grid (grid-stride loops); row kernels take one block per row (row-stride loops) with a power
of two threads per block, at most ``EMBER_BLOCK``.

Formulas follow the composed path they replace operation by operation (same scalar constants as float32,
NaN propagating through max), so results agree to float32 rounding.
"""

SOURCE = r"""
#define EMBER_BLOCK 256

__device__ __forceinline__ float ember_neg_inf() { return __int_as_float(0xff800000); }

// max that propagates NaN like NumPy's maximum / max
__device__ __forceinline__ float ember_max(float a, float b) { return (a > b || a != a) ? a : b; }

// Block-wide reductions through shared memory (blockDim.x a power of two); every thread gets the result.
__device__ float ember_block_sum(float v, float* sh) {
    unsigned t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (unsigned s = blockDim.x >> 1; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    float r = sh[0];
    __syncthreads();
    return r;
}

__device__ float ember_block_max(float v, float* sh) {
    unsigned t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (unsigned s = blockDim.x >> 1; s > 0; s >>= 1) {
        if (t < s) sh[t] = ember_max(sh[t], sh[t + s]);
        __syncthreads();
    }
    float r = sh[0];
    __syncthreads();
    return r;
}

// The maximum of row xr (cols values, the block's threads striding over it), NaN-propagating; every thread
// gets it.
__device__ float ember_row_max(const float* xr, long long cols, float* sh) {
    float m = ember_neg_inf();
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) m = ember_max(m, xr[c]);
    return ember_block_max(m, sh);
}

// ---- GELU (approximate: 0 none / erf, 1 tanh) --------------------------------------------------
#define EMBER_SQRT_HALF 0.70710678118654752f
#define EMBER_INV_SQRT_2PI 0.39894228040143268f
#define EMBER_SQRT_2_OVER_PI 0.79788456080286536f

__device__ __forceinline__ float ember_gelu(float x, int approx_tanh) {
    if (approx_tanh) {
        float inner = tanhf(EMBER_SQRT_2_OVER_PI * (x + 0.044715f * x * x * x));
        return 0.5f * x * (1.0f + inner);
    }
    return 0.5f * x * (1.0f + erff(x * EMBER_SQRT_HALF));
}

__device__ __forceinline__ float ember_gelu_grad(float x, int approx_tanh) {
    if (approx_tanh) {
        float inner = tanhf(EMBER_SQRT_2_OVER_PI * (x + 0.044715f * x * x * x));
        float dinner = (x * x * (3.0f * 0.044715f) + 1.0f) * EMBER_SQRT_2_OVER_PI;
        return (inner + 1.0f) * 0.5f + x * 0.5f * (1.0f - inner * inner) * dinner;
    }
    float cdf = (erff(x * EMBER_SQRT_HALF) + 1.0f) * 0.5f;
    return cdf + x * (expf(x * x * -0.5f) * EMBER_INV_SQRT_2PI);
}

extern "C" __global__ void ember_gelu_fwd(const float* x, float* y, long long n, int approx_tanh) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] = ember_gelu(x[i], approx_tanh);
}

extern "C" __global__ void ember_gelu_bwd(const float* g, const float* x, float* dx, long long n, int approx_tanh) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        dx[i] = g[i] * ember_gelu_grad(x[i], approx_tanh);
}

// ---- softmax / log_softmax over the last dim: one block per row --------------------------------
// log_y != 0: log_softmax. Forward: m = max(x), s = sum(exp(x - m)); y = exp(x - m) / s or x - m - log(s).
extern "C" __global__ void ember_softmax_fwd(const float* x, float* y, long long rows, long long cols, int log_y) {
    __shared__ float sh[EMBER_BLOCK];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float m = ember_row_max(xr, cols, sh);
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += expf(xr[c] - m);
        s = ember_block_sum(s, sh);
        if (log_y) {
            float ls = logf(s);
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = (xr[c] - m) - ls;
        } else {
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = expf(xr[c] - m) / s;
        }
    }
}

// softmax: dx = y * g - y * sum(y * g); log_softmax: dx = g - exp(y) * sum(g)
extern "C" __global__ void ember_softmax_bwd(const float* g, const float* y, float* dx, long long rows, long long cols,
                                             int log_y) {
    __shared__ float sh[EMBER_BLOCK];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* gr = g + r * cols;
        const float* yr = y + r * cols;
        float* dr = dx + r * cols;
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += log_y ? gr[c] : gr[c] * yr[c];
        s = ember_block_sum(s, sh);
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            if (log_y) dr[c] = gr[c] - expf(yr[c]) * s;
            else { float gy = gr[c] * yr[c]; dr[c] = gy - yr[c] * s; }
        }
    }
}

// ---- layer norm (center = 1) / RMS norm (center = 0) over rows ---------------------------------
// w / b may be null. mean and rstd (one per row) are saved for the backward.
extern "C" __global__ void ember_norm_fwd(const float* x, const float* w, const float* b, float eps, int center,
                                          float* y, float* mean, float* rstd, long long rows, long long cols) {
    __shared__ float sh[EMBER_BLOCK];
    float n = (float)cols;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float mu = 0.0f;
        if (center) {
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) mu += xr[c];
            mu = ember_block_sum(mu, sh) / n;
        }
        float ss = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) { float d = xr[c] - mu; ss += d * d; }
        ss = ember_block_sum(ss, sh);
        float inv = 1.0f / sqrtf(ss / n + eps);
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            float v = (xr[c] - mu) * inv;
            if (w) v *= w[c];
            if (b) v += b[c];
            yr[c] = v;
        }
        if (threadIdx.x == 0) { mean[r] = mu; rstd[r] = inv; }
    }
}

// dx = rstd * (g*w - xhat * mean(g*w*xhat) - [center] mean(g*w)), xhat = (x - mean) * rstd
extern "C" __global__ void ember_norm_bwd_dx(const float* g, const float* x, const float* w, const float* mean,
                                             const float* rstd, int center, float* dx, long long rows, long long cols) {
    __shared__ float sh[EMBER_BLOCK];
    float n = (float)cols;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* gr = g + r * cols;
        const float* xr = x + r * cols;
        float* dr = dx + r * cols;
        float mu = mean[r], inv = rstd[r];
        float s1 = 0.0f, s2 = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            float gw = w ? gr[c] * w[c] : gr[c];
            s1 += gw;
            s2 += gw * ((xr[c] - mu) * inv);
        }
        s2 = ember_block_sum(s2, sh) / n;
        s1 = center ? ember_block_sum(s1, sh) / n : 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            float gw = w ? gr[c] * w[c] : gr[c];
            dr[c] = (gw - ((xr[c] - mu) * inv) * s2 - s1) * inv;
        }
    }
}

// Partial sums over chunks of rows: dw_part[k, c] = sum of g * xhat, db_part[k, c] = sum of g over the rows of
// chunk k (either output may be null); the caller sums the chunks. Block b takes column tile b % tiles (one
// thread per column: coalesced reads) of chunk b / tiles, so many rows still give the GPU enough blocks.
extern "C" __global__ void ember_norm_bwd_wb(const float* g, const float* x, const float* mean, const float* rstd,
                                             float* dw_part, float* db_part, long long rows, long long cols,
                                             long long chunk_rows) {
    long long tiles = (cols + blockDim.x - 1) / blockDim.x;
    long long chunks = (rows + chunk_rows - 1) / chunk_rows;
    for (long long b = blockIdx.x; b < tiles * chunks; b += gridDim.x) {
        long long c = (b % tiles) * blockDim.x + threadIdx.x;
        long long k = b / tiles;
        if (c >= cols) continue;
        long long r1 = (k + 1) * chunk_rows < rows ? (k + 1) * chunk_rows : rows;
        float sw = 0.0f, sb = 0.0f;
        for (long long r = k * chunk_rows; r < r1; ++r) {
            float gv = g[r * cols + c];
            sw += gv * ((x[r * cols + c] - mean[r]) * rstd[r]);
            sb += gv;
        }
        if (dw_part) dw_part[k * cols + c] = sw;
        if (db_part) db_part[k * cols + c] = sb;
    }
}

// ---- cross-entropy rows (N, C) -----------------------------------------------------------------
// Forward: e = exp(x - m), m = max(x), s = sum(e) per row (the log-sum-exp pieces).
extern "C" __global__ void ember_ce_exp_rows(const float* x, float* e, float* m, float* s, long long rows, long long cols) {
    __shared__ float sh[EMBER_BLOCK];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        float* er = e + r * cols;
        float mx = ember_row_max(xr, cols, sh);
        float sum = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) { float v = expf(xr[c] - mx); er[c] = v; sum += v; }
        sum = ember_block_sum(sum, sh);
        if (threadIdx.x == 0) { m[r] = mx; s[r] = sum; }
    }
}

// Backward: dx = e * coef[r] - picked[r] at the target (flat position index[r] = r * cols + target[r]).
extern "C" __global__ void ember_ce_bwd_rows(const float* e, const float* coef, const long long* index,
                                             const float* picked, float* dx, long long rows, long long cols) {
    long long n = rows * cols;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / cols;
        float v = e[i] * coef[r];
        if (i == index[r]) v -= picked[r];
        dx[i] = v;
    }
}

// ---- dropout: the mask-and-scale array from uniform samples u (u >= p keeps; kept -> scale) --------
extern "C" __global__ void ember_dropout_scale(const float* u, float p, float scale, float* out, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = u[i] >= p ? scale : 0.0f;
}

// ---- optimizers: one launch updates a parameter and its state in place -------------------------
// Adam / AdamW (decoupled), PyTorch's order of operations; vmax (amsgrad) may be null.
// w1 = 1 - beta1, w2 = 1 - beta2, decay = 1 - lr * wd, neg_step = -lr / bias_correction1.
extern "C" __global__ void ember_adam_step(float* p, const float* g, float* m, float* v, float* vmax, long long n,
                                           float w1, float one_minus_w1, float beta2, float w2, float eps, float wd,
                                           float decay, float neg_step, float bc2_sqrt, int decoupled, int maximize) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float pv = p[i];
        float gv = maximize ? -g[i] : g[i];
        if (wd != 0.0f) {
            if (decoupled) pv = pv * decay;
            else gv = gv + pv * wd;
        }
        float mv = m[i];
        // lerp(m, g, w1) as PyTorch: m + w1 * (g - m) for |w1| < 0.5, else g - (g - m) * (1 - w1)
        mv = fabsf(w1) < 0.5f ? mv + (gv - mv) * w1 : gv - (gv - mv) * one_minus_w1;
        float vv = v[i] * beta2 + (gv * w2) * gv;
        float d = vv;
        if (vmax) { d = ember_max(vmax[i], vv); vmax[i] = d; }
        d = sqrtf(d) / bc2_sqrt + eps;
        m[i] = mv;
        v[i] = vv;
        p[i] = pv + (mv * neg_step) / d;
    }
}

// SGD with optional momentum (buf may be null when momentum == 0); first: the buffer starts as the gradient.
extern "C" __global__ void ember_sgd_step(float* p, const float* g, float* buf, long long n, float neg_lr, float momentum,
                                          float damp, float wd, int nesterov, int maximize, int first) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float pv = p[i];
        float gv = maximize ? -g[i] : g[i];
        if (wd != 0.0f) gv = gv + pv * wd;
        if (buf) {
            float bv = first ? gv : buf[i] * momentum + (damp == 1.0f ? gv : gv * damp);
            buf[i] = bv;
            gv = nesterov ? gv + bv * momentum : bv;
        }
        p[i] = pv + gv * neg_lr;
    }
}
"""
