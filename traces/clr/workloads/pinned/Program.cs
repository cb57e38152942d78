// Pinned buffers and the large object heap: I/O-style buffers pinned with GCHandle and
// allocated on the pinned object heap, large arrays of mixed sizes freed out of order
// (fragmenting the LOH), and a steady churn of small objects around the pins.
using System.Runtime.InteropServices;

static class Program
{
    static int Main(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 30;
        Oracle.PrintConfiguration("pinned");
        Oracle.Checkpoint("start");
        var rng = new Random(3);

        // Long-lived pinned I/O buffers on the POH, and GCHandle pins of ordinary arrays.
        var pohBuffers = new List<byte[]>();
        for (int i = 0; i < 64; i++) pohBuffers.Add(GC.AllocateArray<byte>(64 * 1024, pinned: true));
        var handles = new List<GCHandle>();
        for (int i = 0; i < 200; i++) handles.Add(GCHandle.Alloc(new byte[4096 + i * 16], GCHandleType.Pinned));
        Oracle.Checkpoint("pinned");

        long touched = 0;
        var large = new List<byte[]>();
        for (int round = 0; round < rounds; round++)
        {
            // LOH: sizes from 85 KB to 6 MB; free every other one, out of allocation order.
            for (int i = 0; i < 24; i++)
            {
                var buffer = new byte[85_000 + rng.Next(6_000_000)];
                buffer[^1] = (byte)i;
                large.Add(buffer);
            }
            for (int i = large.Count - 1; i >= 0; i -= 2) large.RemoveAt(i);
            if (large.Count > 60) large.RemoveRange(0, 30);

            // Small-object churn around the pins.
            var small = new List<object>();
            for (int i = 0; i < 20_000; i++) small.Add(new int[rng.Next(1, 64)]);
            touched += small.Count;

            // Pins come and go.
            var h = handles[round % handles.Count];
            h.Free();
            handles[round % handles.Count] = GCHandle.Alloc(new byte[8192], GCHandleType.Pinned);
            if (round % 10 == 9) Oracle.Checkpoint($"round{round + 1}");
        }
        large.Clear();
        Oracle.Checkpoint("loh-dropped");
        foreach (var h in handles) h.Free();
        pohBuffers.Clear();
        Oracle.Checkpoint("unpinned");
        Console.WriteLine($"pinned done: {touched} small objects");
        return 0;
    }
}
