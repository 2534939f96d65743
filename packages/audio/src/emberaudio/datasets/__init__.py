"""torchaudio.datasets: YESNO, SPEECHCOMMANDS, LIBRISPEECH, LJSPEECH, VCTK_092, plus FSDD and AudioFolder."""

from .folder import AudioFolder
from .fsdd import FSDD
from .librispeech import LIBRISPEECH
from .ljspeech import LJSPEECH
from .speechcommands import SPEECHCOMMANDS
from .vctk import VCTK_092
from .yesno import YESNO

__all__ = ["AudioFolder", "FSDD", "LIBRISPEECH", "LJSPEECH", "SPEECHCOMMANDS", "VCTK_092", "YESNO"]
