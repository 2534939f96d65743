"""Backward execution: accumulation, retain_graph, autograd.grad, higher order, hooks, errors."""

import gc
import tracemalloc

import numpy as np
import pytest

import ember
from ember.testing import assert_close


def test_backward_scalar_accumulates_into_leaves():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert_close(x.grad, ember.tensor([2.0, 4.0, 6.0]))
    (x * 3.0).sum().backward()
    assert_close(x.grad, ember.tensor([5.0, 7.0, 9.0]))


def test_backward_non_scalar_needs_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(ember.tensor([1.0, 10.0]))
    assert_close(x.grad, ember.tensor([2.0, 20.0]))


def test_gradient_shape_mismatch_names_both_shapes():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[3\]\) and output\[0\] has a shape of torch.Size\(\[2\]\)"):
        (x * 2).backward(ember.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ember.ones(2).sum().backward()


def test_second_backward_without_retain_graph_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, ember.tensor([4.0, 8.0]))


def test_diamond_graph_sums_both_paths():
    x = ember.tensor(3.0, requires_grad=True)
    a = x * 2
    b = x * x
    (a * b).backward()  # d/dx 2x^3 = 6x^2
    assert x.grad.item() == pytest.approx(54.0)


def test_broadcast_gradient_is_reduced_to_input_shape():
    x = ember.ones(3, 1, requires_grad=True)
    w = ember.ones(4, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.shape == (3, 1) and w.grad.shape == (4,)
    assert_close(x.grad, ember.full((3, 1), 4.0))
    assert_close(w.grad, ember.full((4,), 3.0))


def test_gradient_dtype_matches_input_dtype():
    a = ember.ones(2, dtype=ember.float32, requires_grad=True)
    b = ember.ones(2, dtype=ember.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == ember.float32 and b.grad.dtype == ember.float64


def test_autograd_grad_does_not_touch_dot_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad((x * x).sum(), x)
    assert_close(g, ember.tensor([2.0, 4.0]))
    assert x.grad is None


def test_autograd_grad_higher_order():
    x = ember.tensor(2.0, requires_grad=True)
    y = x ** 3
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    assert g.item() == pytest.approx(12.0)  # 3x^2
    (g2,) = ember.autograd.grad(g, x, create_graph=True)
    assert g2.item() == pytest.approx(12.0)  # 6x
    (g3,) = ember.autograd.grad(g2, x)
    assert g3.item() == pytest.approx(6.0)


def test_backward_create_graph_gives_differentiable_grad():
    x = ember.tensor([1.0, 3.0], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    assert_close(x.grad, ember.tensor([2.0, 2.0]))


def test_autograd_grad_unused_input():
    x = ember.tensor(1.0, requires_grad=True)
    z = ember.tensor(1.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = ember.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and gx.item() == 2.0
    gx, gz = ember.autograd.grad(y, [x, z], materialize_grads=True)
    assert gz.item() == 0.0


def test_autograd_grad_input_not_requiring_grad():
    x = ember.tensor(1.0, requires_grad=True)
    c = ember.tensor(1.0)
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require grad"):
        ember.autograd.grad(x * c, c)


def test_autograd_grad_with_respect_to_intermediate():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = ember.autograd.grad(y, h)
    assert_close(gh, ember.tensor([6.0, 12.0]))


def test_backward_inputs_restricts_accumulation():
    x = ember.tensor(1.0, requires_grad=True)
    w = ember.tensor(2.0, requires_grad=True)
    (x * w).backward(inputs=[w])
    assert x.grad is None and w.grad.item() == 1.0


def test_leaf_grads_do_not_alias_each_other():
    a = ember.zeros(3, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1.0)
    assert_close(b.grad, ember.ones(3))


def test_tensor_hooks_modify_gradient_and_can_be_removed():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    handle = h.register_hook(lambda g: g * 10)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    h.sum().backward(retain_graph=True)
    assert_close(x.grad, ember.tensor([10.0, 10.0]))
    assert seen == [[10.0, 10.0]]
    handle.remove()
    x.grad = None
    h.sum().backward()
    assert_close(x.grad, ember.tensor([1.0, 1.0]))


def test_retain_grad_keeps_non_leaf_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    assert_close(h.grad, ember.tensor([4.0, 8.0]))


def test_register_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        ember.ones(2).register_hook(lambda g: g)


def test_grad_fn_names_and_next_functions():
    x = ember.tensor([1.0], requires_grad=True)
    y = x * 2 + x
    assert y.grad_fn.name() == "AddBackward0"
    mul_node, _ = y.grad_fn.next_functions[0]
    assert mul_node.name() == "MulBackward0"
    acc, _ = mul_node.next_functions[0]
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
    assert y.grad_fn.next_functions[1][0] is acc  # the same accumulator node for one leaf
    assert x.is_leaf and not y.is_leaf
    assert x.grad_fn is None


def test_node_hooks():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = {}
    y.grad_fn.register_prehook(lambda go: seen.update(pre=go[0].tolist()))
    y.grad_fn.register_hook(lambda gi, go: seen.update(post=gi[0].tolist()))
    y.sum().backward()
    assert seen == {"pre": [1.0, 1.0], "post": [3.0, 3.0]}


def test_inplace_modification_of_saved_tensor_is_detected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    h = x * 1.0
    y = h * w  # saves h
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    assert_close(x.detach(), ember.full((2,), 2.0))


def test_inplace_on_non_leaf_records_history():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    v0 = h._version
    h.mul_(x)  # h = 2x * x
    assert h._version == v0 + 1
    assert h.grad_fn.name() == "MulBackward0"
    h.sum().backward()
    assert_close(x.grad, ember.tensor([4.0, 8.0]))


def test_version_counter_shared_with_views():
    x = ember.zeros(4)
    v = x.view(2, 2)
    v.add_(1)
    assert x._version == v._version == 1
    assert_close(x, ember.ones(4))


def test_graph_frees_memory_over_many_steps():
    """1,000 training steps must not grow memory: each step saves ~1 MB of arrays for backward,
    so keeping even one of them per step would show as hundreds of MB."""
    rng = np.random.default_rng(0)
    xs = ember.tensor(rng.standard_normal((256, 256)).astype(np.float32))
    w = ember.zeros(256, requires_grad=True)
    target = ember.tensor(rng.standard_normal(256).astype(np.float32))

    def step():
        pred = (xs * w).sum(1)
        loss = ((pred - target) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w.sub_(w.grad * 0.01)
        w.grad = None

    for _ in range(50):
        step()
    gc.collect()
    tracemalloc.start()
    for _ in range(100):
        step()
    first, _ = tracemalloc.get_traced_memory()
    for _ in range(900):
        step()
    second, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert second - first < 2 * 1024 * 1024, f"memory grew by {second - first} bytes over 900 steps"


def test_saved_tensors_released_after_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    node = y.grad_fn.next_functions[0][0]
    assert len(node.saved_tensors) == 2
    y.backward()
    with pytest.raises(RuntimeError, match="saved tensors after they have already been freed"):
        node.saved_tensors
