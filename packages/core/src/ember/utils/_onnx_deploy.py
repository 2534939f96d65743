"""What the domain trainers share for ``--export-onnx``: write the trained model as ONNX with a dynamic batch
size, refuse a trace that would not generalise, and print how to run the file in ONNX Runtime.

Private: the trainers' command-line behaviour is the public face of this module.
"""

from __future__ import annotations

import warnings

import ember


def add_argument(parser, axes: str = "batch size") -> None:
    """The trainers' ``--export-onnx PATH`` option (``axes``: what is dynamic in the file)."""
    parser.add_argument("--export-onnx", default=None, metavar="PATH",
                        help=f"write the trained model to PATH as ONNX (dynamic {axes}) for ONNX Runtime")


def export_onnx(model, example_inputs, path, inputs, output="logits", dynamic=None, what="logits", setup=None,
                after=None):
    """Write ``model`` (eval mode, moved to the CPU) to ``path`` and print ONNX Runtime usage.

    ``inputs`` lists ``(name, description)`` per example input, the description saying the input's dtype, shape
    and preprocessing. ``dynamic`` maps an input name to its dynamic axes beyond the batch axis 0 (e.g.
    ``{"ids": {1: "length"}}``). ``setup``: code lines of the printed snippet that compute the inputs (e.g.
    read a file), printed in place of the ``name = ...  # description`` lines; ``after``: lines printed last. A forward that turns tensors into Python values while tracing (a
    ``TracerWarning``: the file would only be right for the example's shapes) or uses an op without an ONNX
    mapping ends the run with a ``SystemExit`` naming why. Returns ``path``."""
    model.eval().cpu()
    names = [name for name, _ in inputs]
    axes = {name: {0: "batch", **(dynamic or {}).get(name, {})} for name in names}
    axes[output] = {0: "batch"}
    kind = type(model).__name__
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ember.jit.TracerWarning)
            ember.onnx.export(model, tuple(example_inputs), path, input_names=names, output_names=[output],
                              dynamic_axes=axes)
    except ImportError as exc:
        raise SystemExit(f"error: --export-onnx: {exc}") from None
    except ember.jit.TracerWarning as exc:
        raise SystemExit(f"error: --export-onnx: {kind} can't be exported to ONNX yet: its forward turns a tensor "
                         f"into a Python value while tracing, so the file would hold the example's shapes and be "
                         f"wrong for other inputs ({exc})") from None
    except ember.onnx.OnnxExporterError as exc:
        raise SystemExit(f"error: --export-onnx: {kind} can't be exported to ONNX: {exc}") from None
    feeds = ", ".join(f"{name!r}: {name}" for name in names)
    lines = [f"wrote {path} (ONNX opset 17; {'inputs' if len(names) > 1 else 'input'} "
             + ", ".join(repr(n) for n in names) + f", output {output!r}: {what}). "
             "Run it with ONNX Runtime (pip install onnxruntime):",
             "    import numpy as np, onnxruntime as ort",
             f"    session = ort.InferenceSession({str(path)!r}, providers=['CPUExecutionProvider'])"]
    if setup is None:
        lines += [f"    {name} = ...  # {description}" for name, description in inputs]
    else:
        lines += [f"    {line}" for line in setup]
    lines.append(f"    predictions = session.run([{output!r}], {{{feeds}}})[0].argmax(1)")
    lines += [f"    {line}" for line in after or ()]
    print("\n".join(lines))
    return path
