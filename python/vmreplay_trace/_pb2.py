"""Locates the generated protobuf module for proto/trace.proto.

The generated ``trace_pb2.py`` is not kept in the source tree (it depends on the protoc that
made it). In order:

1. ``vmreplay_trace/trace_pb2.py`` next to this file: what the build puts there
   (``python/build_pb2.sh`` or the CMake step; see python/README.md).
2. A directory named by ``$VMREPLAY_PB2_DIR`` that holds ``trace_pb2.py``.
3. Generated on first import with ``protoc`` (``$PROTOC`` or on ``PATH``) from ``trace.proto``
   (``$VMREPLAY_PROTO``, else ``../../proto/trace.proto`` relative to this package, which is
   where it is in a source checkout) into a cache directory
   (``$XDG_CACHE_HOME/vmreplay_trace/<hash of trace.proto>``, default ``~/.cache``).
"""

import hashlib
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_from(directory):
    path = os.path.join(directory, "trace_pb2.py")
    if not os.path.isfile(path):
        return None
    spec = importlib.util.spec_from_file_location("vmreplay_trace.trace_pb2", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["vmreplay_trace.trace_pb2"] = module
    spec.loader.exec_module(module)
    return module


def _proto_path():
    env = os.environ.get("VMREPLAY_PROTO")
    if env:
        return env
    candidate = os.path.normpath(os.path.join(_HERE, "..", "..", "proto", "trace.proto"))
    return candidate if os.path.isfile(candidate) else None


def _generate():
    proto = _proto_path()
    protoc = os.environ.get("PROTOC") or shutil.which("protoc")
    if proto is None or protoc is None:
        return None
    with open(proto, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    cache_root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    out = os.path.join(cache_root, "vmreplay_trace", digest)
    if not os.path.isfile(os.path.join(out, "trace_pb2.py")):
        os.makedirs(out, exist_ok=True)
        tmp = out + ".tmp%d" % os.getpid()
        os.makedirs(tmp, exist_ok=True)
        subprocess.run(
            [protoc, "--python_out=" + tmp, "-I", os.path.dirname(proto), proto],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        os.replace(os.path.join(tmp, "trace_pb2.py"), os.path.join(out, "trace_pb2.py"))
        shutil.rmtree(tmp, ignore_errors=True)
    return _load_from(out)


def load():
    """Returns the trace_pb2 module, or raises ImportError saying how to provide it."""
    try:
        return importlib.import_module("vmreplay_trace.trace_pb2")
    except ImportError as e:
        if getattr(e, "name", None) not in ("vmreplay_trace.trace_pb2", None):
            raise  # trace_pb2 exists but its own import failed (e.g. no google.protobuf)
    env = os.environ.get("VMREPLAY_PB2_DIR")
    if env:
        module = _load_from(env)
        if module is not None:
            return module
    module = _generate()
    if module is not None:
        return module
    raise ImportError(
        "vmreplay_trace: no trace_pb2 module. Generate it with "
        "`protoc --python_out=python/vmreplay_trace -I proto proto/trace.proto` "
        "(python/build_pb2.sh), or set VMREPLAY_PB2_DIR to a directory holding trace_pb2.py, "
        "or make protoc and proto/trace.proto (VMREPLAY_PROTO) available.",
        name="vmreplay_trace.trace_pb2",
    )
