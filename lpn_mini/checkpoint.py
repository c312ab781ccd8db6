"""Checkpoints: parameters, optimizer state, config and step count in one ``.npz`` file.

Arrays are stored under flat names such as ``params/encoder/0/W``; the config is stored
as JSON text. Files are loaded with ``allow_pickle=False`` (a checkpoint can never run
code), and written to a temporary file that is renamed over the old one only when it is
complete, so an interrupted write leaves the last good checkpoint intact.
"""
import json
import os
import tempfile
import zipfile

import numpy as onp

from .config import config_from_dict


def _flatten(tree, prefix):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_flatten(v, f"{prefix}/{k}"))
        return out
    if isinstance(tree, (list, tuple)):
        out = {}
        for i, v in enumerate(tree):
            out.update(_flatten(v, f"{prefix}/{i}"))
        return out
    return {prefix: onp.asarray(tree)}


def _layers(arrays, prefix):
    """Rebuild ``[(W, b), ...]`` from ``prefix/0/0``, ``prefix/0/1``, ..."""
    layers = []
    while f"{prefix}/{len(layers)}/0" in arrays:
        k = len(layers)
        layers.append((arrays[f"{prefix}/{k}/0"], arrays[f"{prefix}/{k}/1"]))
    return layers


def _params(arrays, prefix):
    return {net: _layers(arrays, f"{prefix}/{net}") for net in ("encoder", "decoder")}


def save_checkpoint(path, params, opt_state, config, step):
    """Atomically write a checkpoint to ``path`` (a ``.npz`` file)."""
    arrays = {**_flatten(params, "params"), **_flatten(opt_state["m"], "adam_m"),
              **_flatten(opt_state["v"], "adam_v")}
    arrays["adam_t"] = onp.asarray(int(opt_state["t"]))
    arrays["step"] = onp.asarray(step)
    arrays["config_json"] = onp.asarray(config.to_json())
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            onp.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_checkpoint(path, expected_config=None):
    """Read a checkpoint. Returns ``(params, opt_state, config, step)``.

    expected_config: if given, the checkpoint's model shape (grid, colours, latent size,
    hidden widths) must match it, or the error says which field differs.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}; train first with `lpn-mini train`.")
    try:
        with onp.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        config = config_from_dict(json.loads(str(arrays["config_json"])))
        params = _params(arrays, "params")
        opt_state = {"m": _params(arrays, "adam_m"), "v": _params(arrays, "adam_v"),
                     "t": int(arrays["adam_t"])}
        step = int(arrays["step"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a readable lpn-mini checkpoint ({type(e).__name__}: "
                         f"{e}); delete it or point to another run directory.") from None
    if not params["encoder"] or not params["decoder"]:
        raise ValueError(f"{path} holds no model parameters; it is not an lpn-mini checkpoint.")
    if expected_config is not None:
        for key in ("grid_size", "num_colors", "latent_dim", "hidden"):
            if getattr(config, key) != getattr(expected_config, key):
                raise ValueError(f"checkpoint {path} was trained with {key} = "
                                 f"{getattr(config, key)!r} but the config asks for "
                                 f"{getattr(expected_config, key)!r}; use a new run directory "
                                 f"or the checkpoint's config.")
    return params, opt_state, config, step
