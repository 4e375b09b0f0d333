"""The provision scenario's verify: the lab's helpers (lab/labhosts.py) on the path, once for every test module."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "lab"))
