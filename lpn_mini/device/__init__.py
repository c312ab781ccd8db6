"""Where the arrays live and how fast the machine runs them: machinery below the core.

- ``backend``      the array module (NumPy, or CuPy on a GPU) and autograd's glue for it
- ``fake_device``  a NumPy-backed stand-in for a GPU array, so the GPU paths run in tests
- ``allocator``    glibc's malloc kept from handing a step's freed arrays back to the OS
- ``blas``         how many threads BLAS uses, per run

The core modules (``tasks``, ``model``, ``latent``, ...) import from here; nothing here
imports from the core or from the tooling (``experiments``, ``course``, ``cli``).
"""
