"""The differential suite's modules import each other by name (they also run as a script)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
