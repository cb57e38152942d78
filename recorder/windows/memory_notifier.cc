#include "recorder/windows/memory_notifier.h"

namespace vmreplay::win {

MemoryNotifier::MemoryNotifier(RecordingMemoryManager* manager, DWORD poll_ms)
    : manager_(manager), poll_ms_(poll_ms) {}

MemoryNotifier::~MemoryNotifier() {
  Stop();
  for (HANDLE h : {low_, high_, stop_}) {
    if (h != nullptr) CloseHandle(h);
  }
}

bool MemoryNotifier::Start() {
  low_ = CreateMemoryResourceNotification(LowMemoryResourceNotification);
  high_ = CreateMemoryResourceNotification(HighMemoryResourceNotification);
  stop_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (low_ == nullptr || high_ == nullptr || stop_ == nullptr) return false;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void MemoryNotifier::Stop() {
  if (!thread_.joinable()) return;
  SetEvent(stop_);
  thread_.join();
}

// Both notification objects stay signalled while their condition holds, so the thread polls
// their state and reports changes only, never the same state twice in a row.
void MemoryNotifier::Run() {
  EMemoryAvailable last = eMemoryAvailableNeutral;
  while (WaitForSingleObject(stop_, poll_ms_) == WAIT_TIMEOUT) {
    BOOL low = FALSE, high = FALSE;
    QueryMemoryResourceNotification(low_, &low);
    QueryMemoryResourceNotification(high_, &high);
    const EMemoryAvailable now =
        low ? eMemoryAvailableLow : (high ? eMemoryAvailableHigh : eMemoryAvailableNeutral);
    if (now == last) continue;
    // Nothing is recorded until the CLR has registered its callback; retry on the next poll.
    if (manager_->DeliverMemoryNotification(now) != S_FALSE) last = now;
  }
}

}  // namespace vmreplay::win
