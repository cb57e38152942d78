// What clr_driver.exe does, as constants shared by the driver (Windows) and the test that
// checks its trace (Linux): the test's expected per-operation counts come from here.
#pragma once

namespace vmreplay::clr_driver {

// Main thread: kSegments GC-like segments, each reserved, partly committed, queried,
// protected, decommitted, recommitted and released, with two calls that fail by design.
inline constexpr int kSegments = 3;
inline constexpr unsigned long long kSegmentSize = 16ull << 20;
inline constexpr unsigned long long kInitialCommit = 256ull << 10;
// Per segment.
inline constexpr int kSegmentVirtualAlloc = 3;    // reserve, commit, recommit
inline constexpr int kSegmentVirtualQuery = 4;    // committed, reserved, protected, decommitted
inline constexpr int kSegmentVirtualProtect = 3;  // to read-only, back, on reserved (fails)
inline constexpr int kSegmentVirtualFree = 3;     // decommit, bad release (fails), release
inline constexpr int kSegmentGetMemoryLoad = 1;
// Once, on the main thread: reserve+commit in one call and its release, and a commit of
// free memory (fails: E_OUTOFMEMORY, ERROR_INVALID_ADDRESS).
inline constexpr int kExtraVirtualAlloc = 2;
inline constexpr int kExtraVirtualFree = 1;

// Worker threads: each reserves, commits, queries and releases a private region, and makes
// kAllocsPerThread host-malloc allocations (every kDebugEvery-th a DebugAlloc), each freed.
inline constexpr int kWorkerThreads = 4;
inline constexpr int kAllocsPerThread = 300;
inline constexpr int kDebugEvery = 3;
inline constexpr int kWorkerVirtualAlloc = 2;
inline constexpr int kWorkerVirtualQuery = 1;
inline constexpr int kWorkerVirtualFree = 1;
// DebugAlloc file names: static strings, as the CLR passes __FILE__.
inline constexpr const char* kDebugFiles[] = {"f:\\dd\\ndp\\clr\\src\\vm\\gcheaputilities.cpp",
                                              "f:\\dd\\ndp\\clr\\src\\vm\\jitinterface.cpp"};
inline constexpr int kDebugFileCount = 2;

// Notifications forced by the driver after registration: Low, then High.
inline constexpr int kForcedNotifications = 2;

constexpr int DebugAllocsPerThread() { return (kAllocsPerThread + kDebugEvery - 1) / kDebugEvery; }

}  // namespace vmreplay::clr_driver
