"""Side-by-side benchmarks of Ember against PyTorch (CPU, and CuPy vs CUDA when a GPU is present)."""
