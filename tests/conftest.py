import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # so tests can import helpers.py

# The BLAS thread count follows the machine's load (lpn_mini/device/blas.py), and a
# different count changes a training's last bits. Tests that compare runs bit for bit must
# not depend on what else the machine is doing, so the suite pins one thread; the rule
# itself is tested in tests/test_blas.py with a fake /proc/stat.
os.environ.setdefault("LPN_MINI_THREADS", "1")
