"""Checkpoints: parameters, optimizer state, config and step count in one ``.npz`` file.

Arrays are stored under flat names such as ``params/encoder/0/W``; the config is stored
as JSON text. Files are loaded with ``allow_pickle=False`` (a checkpoint can never run
code), and written to a temporary file that is renamed over the old one only when it is
complete, so an interrupted write leaves the last good checkpoint intact (and the next
write removes the temporary file a killed one left behind).

While a run trains, ``training.lock`` in its folder names the process (``run_lock``), so
that a second training into the same folder is refused instead of mixing the two.
"""
import contextlib
import json
import os
import re
import socket
import sys
import tempfile
import time
import zipfile
import zlib

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


def _unflatten(arrays, prefix):
    """Rebuild the tree ``_flatten`` wrote under ``prefix``: names are dict keys, numbers
    list positions, and a numbered node whose entries are all arrays a tuple (a layer's
    ``(W, b)``). E.g. ``prefix/encoder/0/0`` -> ``{"encoder": [(W, ...), ...]}`` (the MLP),
    ``prefix/encoder/table/0`` -> ``{"encoder": {"table": (W, ...)}}`` (conv)."""
    tree = {}
    for name, value in arrays.items():
        if name.startswith(prefix + "/"):
            node, *parts, last = name[len(prefix) + 1:].split("/")
            node = tree.setdefault(node, {})
            for part in parts:
                node = node.setdefault(part, {})
            node[last] = value

    def build(node):
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            items = [build(node[str(i)]) for i in range(len(node))]  # KeyError if a gap
            return tuple(items) if all(not isinstance(v, dict) for v in node.values()) \
                else items
        return {k: build(v) for k, v in node.items()}

    return {net: build(tree.get(net, {})) for net in ("encoder", "decoder")}


def _params(arrays, prefix):
    return _unflatten(arrays, prefix)


# The temporary files of save_checkpoint: tempfile.mkstemp(prefix=".tmp-", suffix=".npz")
# names them ".tmp-" + 8 characters from [a-z0-9_] + ".npz".
TEMPORARY = re.compile(r"\.tmp-[a-z0-9_]{8}\.npz")


def remove_stale_temporaries(folder):
    """Delete the temporary files that killed checkpoint writes left in ``folder`` (only
    ``save_checkpoint``'s own pattern). One run writes to a folder at a time, so any such
    file is from a write that never finished."""
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if TEMPORARY.fullmatch(name):
                os.remove(os.path.join(folder, name))


def _umask():
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def save_checkpoint(path, params, opt_state, config, step):
    """Atomically write a checkpoint to ``path`` (a ``.npz`` file)."""
    arrays = {**_flatten(params, "params"), **_flatten(opt_state["m"], "adam_m"),
              **_flatten(opt_state["v"], "adam_v")}
    arrays["adam_t"] = onp.asarray(int(opt_state["t"]))
    arrays["step"] = onp.asarray(step)
    arrays["config_json"] = onp.asarray(config.to_json())
    folder = os.path.dirname(os.path.abspath(path))
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            onp.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; a checkpoint is a plain file
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def find_checkpoint(path):
    """``(checkpoint file, run directory)`` for ``path``: a run directory written by
    ``lpn-mini train`` (its ``checkpoint.npz``) or a checkpoint file itself."""
    if os.path.isdir(path):
        ckpt = os.path.join(path, "checkpoint.npz")
        if not os.path.exists(ckpt):
            raise FileNotFoundError(f"no checkpoint in {path} ({ckpt} is missing); train first "
                                    f"with `lpn-mini train --run-dir {path}`.")
        return ckpt, path
    if os.path.isfile(path):
        return path, os.path.dirname(path) or "."
    raise FileNotFoundError(f"no checkpoint at {path} (neither a run directory nor a file); "
                            f"pass a folder written by `lpn-mini train`, or its checkpoint.npz.")


def _unreadable(path, reason):
    """The error for a file that is no checkpoint. Only a run's own checkpoint.npz (which a
    killed or broken write may have damaged) gets advice about it; any other file may be
    the user's, and the advice is to pass another path."""
    if os.path.basename(path) == "checkpoint.npz":
        return ValueError(f"{path} is not a readable lpn-mini checkpoint ({reason}); train "
                          f"that run again with `lpn-mini train --no-resume` (which moves it "
                          f"into previous/).")
    return ValueError(f"{path} is not a readable lpn-mini checkpoint ({reason}); pass a run "
                      f"directory written by `lpn-mini train`, or the checkpoint.npz in one.")


def load_checkpoint(path, expected_config=None):
    """Read a checkpoint. Returns ``(params, opt_state, config, step)``.

    expected_config: if given, the checkpoint's model shape (grid, colours, latent size,
    hidden widths, architecture) must match it, or the error says which field differs.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}; train first with `lpn-mini train`.")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, not a checkpoint file; pass its checkpoint.npz.")
    if not zipfile.is_zipfile(path):  # before NumPy, which would try (and refuse) a pickle
        raise _unreadable(path, "not an .npz archive: a truncated or corrupt file, or another "
                                "kind of file")
    try:
        with onp.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        config_json = json.loads(str(arrays["config_json"]))
        params = _params(arrays, "params")
        opt_state = {"m": _params(arrays, "adam_m"), "v": _params(arrays, "adam_v"),
                     "t": int(arrays["adam_t"])}
        step = int(arrays["step"])
    except KeyError as e:
        raise _unreadable(path, f"it has no {e.args[0]!r} entry") from None
    except json.JSONDecodeError:
        raise _unreadable(path, "its config is not JSON") from None
    except ValueError as e:
        if "pickle" in str(e):
            raise _unreadable(path, "it holds pickled objects, which lpn-mini never writes") \
                from None
        raise _unreadable(path, "a damaged array") from None
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error):
        raise _unreadable(path, "a damaged archive") from None
    config = config_from_dict(config_json, where=f"checkpoint {path}")
    if not params["encoder"] or not params["decoder"]:
        raise ValueError(f"{path} holds no model parameters; it is not an lpn-mini checkpoint.")
    if expected_config is not None:
        for key in ("grid_size", "num_colors", "latent_dim", "hidden", "architecture",
                    "window"):
            if getattr(config, key) != getattr(expected_config, key):
                raise ValueError(f"checkpoint {path} was trained with {key} = "
                                 f"{getattr(config, key)!r} but the config asks for "
                                 f"{getattr(expected_config, key)!r}; use a new run directory "
                                 f"or the checkpoint's config.")
    return params, opt_state, config, step


def checkpoint_step(path):
    """The step a checkpoint was saved at, reading nothing else; None if there is none."""
    if not os.path.isfile(path):
        return None
    try:
        with onp.load(path, allow_pickle=False) as f:  # an .npz is read member by member
            return int(f["step"])
    except Exception:  # damaged: load_checkpoint says why, with advice, when it is loaded
        return None


# --------------------------------------------------------------------------------------
# The run directory's lock: one training at a time writes into a run directory.
# --------------------------------------------------------------------------------------

LOCK = "training.lock"
_HELD = {}  # lock path -> how many `with run_lock(...)` of this process hold it


def _process_alive(pid):
    """Whether process ``pid`` runs on this machine. Where that cannot be checked safely
    (Windows, where os.kill ends the process) the answer is yes."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)  # signal 0: no signal is sent, only the check
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        return True
    return True


def _read_lock(path):
    """The holder recorded in a lock file, ``{"pid", "host", "command", "started"}``, or
    None if the file is gone or unreadable."""
    try:
        with open(path) as f:
            holder = json.load(f)
        return holder if isinstance(holder.get("pid"), int) else None
    except (OSError, ValueError, AttributeError):
        return None


def _stale(holder):
    """Whether the process that wrote a lock is gone (then the lock may be taken over)."""
    if holder is None:
        return True  # empty or damaged: no live writer can be named
    if holder.get("host") != socket.gethostname():
        return False  # another machine's process (a shared folder): it cannot be checked
    # Our own PID in a lock we do not hold: an earlier process that had the same PID (in a
    # container, every run may be PID 1).
    return holder["pid"] == os.getpid() or not _process_alive(holder["pid"])


def _write_lock(path):
    """Create ``path`` holding this process, atomically: the complete file appears at once,
    and only if no lock is there (``os.link`` refuses to overwrite). Returns success."""
    me = {"pid": os.getpid(), "host": socket.gethostname(),
          "command": " ".join(sys.argv),
          "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".lock-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.remove(tmp)


def _remove_stale(path, holder):
    """Remove the stale lock ``holder`` from ``path``; False if another run took it over
    first. The lock is renamed away and read again, so that a run that found the same stale
    lock a moment later cannot remove the live lock the first one has just written."""
    moved = f"{path}.stale-{os.getpid()}"
    try:
        os.rename(path, moved)
    except FileNotFoundError:
        return False
    if _read_lock(moved) != holder:  # not the lock judged stale: put it back
        with contextlib.suppress(FileExistsError):
            os.link(moved, path)
        os.remove(moved)
        return False
    os.remove(moved)
    return True


@contextlib.contextmanager
def run_lock(run_dir, echo=print):
    """Hold ``run_dir/training.lock`` while the ``with`` block runs: a second training into
    the same folder is refused with one line, and a lock whose process is gone (a run that
    was killed) is taken over with a line that says so. Re-entrant within one process."""
    path = os.path.abspath(os.path.join(run_dir, LOCK))
    if _HELD.get(path):
        _HELD[path] += 1
    else:
        _acquire(path, run_dir, echo)
        _HELD[path] = 1
    try:
        yield
    finally:
        _HELD[path] -= 1
        if not _HELD[path]:
            del _HELD[path]
            if (_read_lock(path) or {}).get("pid") == os.getpid() and os.path.exists(path):
                os.remove(path)


def _acquire(path, run_dir, echo):
    for _ in range(3):  # a lock that vanishes between two looks: try again
        if _write_lock(path):
            return
        holder = _read_lock(path)
        if not _stale(holder):
            raise ValueError(f"{run_dir} is in use by another training (PID {holder['pid']} "
                             f"on {holder['host']}, since {holder.get('started', '?')}: "
                             f"{holder.get('command', '?')}); wait for it to finish, or pass "
                             f"another run directory.")
        if not _remove_stale(path, holder):
            continue
        gone = (f"the process that wrote it, PID {holder['pid']}, has ended" if holder
                else "it was unreadable")
        echo(f"taking over the lock of {run_dir} ({gone}; a run that was stopped or killed "
             f"left it)")
    raise ValueError(f"could not lock {run_dir}: its {LOCK} keeps changing; check that no "
                     f"other lpn-mini writes there, then run the command again.")
