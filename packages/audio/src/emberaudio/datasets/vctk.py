"""VCTK 0.92: 110 English speakers, ``txt/<spk>/<spk>_<utt>.txt`` and ``wav48_silence_trimmed/<spk>/<spk>_<utt>_<mic>.flac``."""

from __future__ import annotations

import os

from ember.utils.data import Dataset

from .._io import load
from .utils import download_and_extract

URL = "https://datashare.is.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip"
_CHECKSUMS = {URL: "f96258be9fdc2cbff6559541aae7ea4f59df3fcaf5cf963aae5ca647357e359c"}


class VCTK_092(Dataset):
    """VCTK 0.92: items are ``(waveform, sample_rate, transcript, speaker_id, utterance_id)``.

    ``mic_id`` is ``"mic1"`` or ``"mic2"``; speaker p280 has no mic2 recordings and is skipped for it, as are
    p362 utterances without audio.
    """

    def __init__(self, root, mic_id: str = "mic2", download: bool = False, url: str = URL, audio_ext: str = ".flac"):
        if mic_id not in ("mic1", "mic2"):
            raise RuntimeError(f'`mic_id` has to be either "mic1" or "mic2". Found: {mic_id}')
        root = os.fspath(root)
        archive = os.path.join(root, "VCTK-Corpus-0.92.zip")
        self._path = os.path.join(root, "VCTK-Corpus-0.92")
        self._txt_dir = os.path.join(self._path, "txt")
        self._audio_dir = os.path.join(self._path, "wav48_silence_trimmed")
        self._mic_id, self._audio_ext = mic_id, audio_ext
        if download and not os.path.isdir(self._path):
            download_and_extract(url, archive, self._path, _CHECKSUMS.get(url))
        if not os.path.isdir(self._path):
            raise RuntimeError(f"Dataset not found at {self._path}. Please use `download=True` to download it.")
        self._speaker_ids = sorted(os.listdir(self._txt_dir))
        self._sample_ids = []
        for speaker_id in self._speaker_ids:
            if speaker_id == "p280" and mic_id == "mic2":
                continue
            utterance_dir = os.path.join(self._txt_dir, speaker_id)
            for utterance_file in sorted(f for f in os.listdir(utterance_dir) if f.endswith(".txt")):
                utterance_id = os.path.splitext(utterance_file)[0]
                audio = os.path.join(self._audio_dir, speaker_id, f"{utterance_id}_{mic_id}{audio_ext}")
                if speaker_id == "p362" and not os.path.isfile(audio):
                    continue
                self._sample_ids.append(utterance_id.split("_"))

    def __getitem__(self, n: int):
        speaker_id, utterance_id = self._sample_ids[n]
        with open(os.path.join(self._txt_dir, speaker_id, f"{speaker_id}_{utterance_id}.txt")) as f:
            transcript = f.readlines()[0]
        waveform, sample_rate = load(os.path.join(self._audio_dir, speaker_id,
                                                  f"{speaker_id}_{utterance_id}_{self._mic_id}{self._audio_ext}"))
        return waveform, sample_rate, transcript, speaker_id, utterance_id

    def __len__(self) -> int:
        return len(self._sample_ids)
