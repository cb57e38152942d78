#!/bin/sh
# Generates vmreplay_trace/trace_pb2.py from proto/trace.proto.
#   python/build_pb2.sh [OUT_PACKAGE_DIR]   (default: python/vmreplay_trace next to this script)
# The build runs the same protoc command into its copy of the package (see python/README.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
out=${1:-$here/vmreplay_trace}
exec "${PROTOC:-protoc}" --python_out="$out" -I "$src/proto" "$src/proto/trace.proto"
