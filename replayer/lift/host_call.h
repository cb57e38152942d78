// A lifted host call made where and when the recorded call it stands for was.
#pragma once

#include "proto/event.h"

namespace vmreplay::lift {

inline Event HostCallAt(const Event& recorded, Op op) {
  Event out;
  out.op = op;
  out.thread = recorded.thread;
  out.timestamp_ns = recorded.timestamp_ns;
  out.latency_ns = recorded.latency_ns;
  return out;
}

}  // namespace vmreplay::lift
