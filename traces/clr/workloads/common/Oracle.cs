// What every workload prints so a recording can be checked against the runtime's own figures:
// the runtime and GC configuration at start, and at each checkpoint the GC's
// TotalCommittedBytes with wall-clock times (unix ns) bracketing a blocking full collection.
// replayer/lift's oracle reads these lines (format: "vmreplay-oracle key=value ...").
using System;
using System.Linq;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Threading;

static class Oracle
{
    static long UnixNs() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    public static void PrintConfiguration(string workload)
    {
        var config = GC.GetConfigurationVariables()
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}={kv.Value}");
        Console.WriteLine($"vmreplay-runtime workload={workload} " +
                          $"framework=\"{RuntimeInformation.FrameworkDescription}\" " +
                          $"server_gc={GCSettings.IsServerGC} latency={GCSettings.LatencyMode}");
        Console.WriteLine("vmreplay-gc-config " + string.Join(" ", config));
    }

    // Server GC hands surplus free regions to a global decommit list that TotalCommittedBytes
    // leaves out and that heap 0's GC thread decommits a step (DECOMMIT_SIZE_PER_MILLISECOND *
    // 100 ms) at a time after the collection: let it drain before the collection that is measured.
    static readonly int SettleMs = GCSettings.IsServerGC ? 3000 : 0;

    // A blocking full collection, then the figure it recorded. Commit is stable between the
    // end of that collection and after_unix_ns: only this thread runs managed code meanwhile.
    public static void Checkpoint(string label)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (SettleMs > 0) Thread.Sleep(SettleMs);
        long before = UnixNs();
        GC.Collect();
        long after = UnixNs();
        var info = GC.GetGCMemoryInfo();
        Console.WriteLine($"vmreplay-oracle label={label} gc_index={info.Index} " +
                          $"total_committed={info.TotalCommittedBytes} heap_size={info.HeapSizeBytes} " +
                          $"before_unix_ns={before} after_unix_ns={after}");
    }
}
