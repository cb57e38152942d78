// Watches physical memory for the host and tells the CLR: a thread waits on the system's
// low- and high-memory resource notifications (CreateMemoryResourceNotification) and, when the
// state changes (Low / Neutral / High), delivers it through
// RecordingMemoryManager::DeliverMemoryNotification, which records the delivery.
#pragma once

#include <windows.h>

#include <thread>

#include "recorder/windows/recording_memory_manager.h"

namespace vmreplay::win {

class MemoryNotifier {
 public:
  // REQUIRES: `manager` outlives the notifier (Stop() before releasing it).
  MemoryNotifier(RecordingMemoryManager* manager, DWORD poll_ms);
  ~MemoryNotifier();
  // Starts the watch thread. Returns false (GetLastError set) when the system objects cannot
  // be created.
  bool Start();
  void Stop();

 private:
  void Run();

  RecordingMemoryManager* const manager_;
  const DWORD poll_ms_;
  HANDLE low_ = nullptr;
  HANDLE high_ = nullptr;
  HANDLE stop_ = nullptr;
  std::thread thread_;
};

}  // namespace vmreplay::win
