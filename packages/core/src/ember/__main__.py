"""``python -m ember``: a one-minute check that autograd trains something (linear regression)."""

import ember


def main(steps: int = 200, lr: float = 0.1) -> float:
    ember.manual_seed(0)
    x = ember.randn(256, 3)
    true_w = ember.tensor([[2.0], [-3.0], [0.5]])
    y = x.matmul(true_w) + 1.0
    w = ember.zeros(3, 1, requires_grad=True)
    b = ember.zeros(1, requires_grad=True)
    loss = None
    for step in range(steps):
        pred = x.matmul(w) + b
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None
        b.grad = None
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.6f}")
    print("learned w:", w.detach().view(-1).tolist(), "b:", round(b.item(), 4))
    return loss.item()


if __name__ == "__main__":
    main()
