"""Label sentences with a trained classifier: ``python -m embertext.predict CHECKPOINT "a sentence" ...``.

Prints one line per sentence: the predicted label and its probability. The checkpoint (from
``embertext-train``: ``best.ember`` or ``checkpoint.ember``) holds the tokenizer/vocabulary, the model's
configuration and the label names, so nothing else is needed.
"""

from __future__ import annotations

import argparse
import sys

import ember

from ._classifier import TextEncoder, build_model, collate

CHECKPOINT_FORMAT = "embertext-classifier/1"


class Classifier:
    """A trained text classifier loaded from an ``embertext-train`` checkpoint."""

    def __init__(self, checkpoint, device="cpu") -> None:
        try:
            state = ember.load(checkpoint, map_location=device)
        except (OSError, RuntimeError) as exc:
            raise RuntimeError(f"cannot read checkpoint {checkpoint}: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise RuntimeError(f"{checkpoint} is not an embertext-train checkpoint")
        self.labels = list(state["labels"])
        self.encoder = TextEncoder.from_state(state["text"])
        self.model = build_model(state["model_name"], len(self.encoder), len(self.labels), dict(state["model_config"]))
        self.model.load_state_dict(state["model"])
        self.model.to(device).eval()
        self.device = device

    def predict_proba(self, sentences):
        """(N, num_classes) class probabilities for a list of sentences."""
        ids, lengths, _ = collate([(self.encoder.encode(s), 0) for s in sentences])
        with ember.no_grad():
            return self.model(ids.to(self.device), lengths).softmax(-1).cpu()

    def predict(self, sentences):
        """[(label, probability), ...] for a list of sentences."""
        probs = self.predict_proba(sentences)
        best = probs.argmax(1)
        return [(self.labels[int(i)], float(probs[row, int(i)])) for row, i in enumerate(best)]


def main(argv=None) -> list:
    p = argparse.ArgumentParser(prog="embertext-predict", description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", help="a checkpoint written by embertext-train")
    p.add_argument("sentences", nargs="+", help="sentences to label")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    try:
        classifier = Classifier(args.checkpoint, args.device)
    except RuntimeError as exc:
        raise SystemExit(f"error: {exc}") from None
    results = classifier.predict(args.sentences)
    for sentence, (label, prob) in zip(args.sentences, results):
        print(f"{label}\t{prob:.4f}\t{sentence}")
    return results


def cli() -> None:
    """Console-script entry point: exit status 0 on success, not ``main``'s return value."""
    main(sys.argv[1:])


if __name__ == "__main__":
    cli()
