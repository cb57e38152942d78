// A batch job: large numeric arrays, LINQ pipelines over them (grouping, sorting,
// projections into new collections), phase by phase, with the arrays dropped between phases.
using System.Linq;

static class Program
{
    static double Phase1(int n)
    {
        var rng = new Random(1);
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = rng.NextDouble() * 1000;
        var ints = values.Select(v => (int)v).ToArray();
        return values.Average() + ints.Max();
    }

    static long Phase2(int n)
    {
        var rng = new Random(2);
        var rows = Enumerable.Range(0, n)
            .Select(i => (Key: rng.Next(5000), Value: rng.Next(1_000_000), Name: "row" + i))
            .ToList();
        var groups = rows.GroupBy(r => r.Key)
            .Select(g => new { g.Key, Sum = g.Sum(r => (long)r.Value), Count = g.Count() })
            .OrderByDescending(g => g.Sum)
            .ToList();
        var sorted = rows.OrderBy(r => r.Value).ThenBy(r => r.Name, StringComparer.Ordinal).ToArray();
        return groups.Take(10).Sum(g => g.Sum) + sorted[sorted.Length / 2].Value;
    }

    static int Phase3(int chunks)
    {
        // Chunked processing: each chunk a fresh large array (LOH), a dictionary and a string join.
        int checksum = 0;
        for (int c = 0; c < chunks; c++)
        {
            var chunk = new int[250_000 + c * 1000];
            for (int i = 0; i < chunk.Length; i++) chunk[i] = (i * 31 + c) % 977;
            var histogram = chunk.GroupBy(x => x % 97).ToDictionary(g => g.Key, g => g.Count());
            checksum ^= StableHash(string.Join(",", histogram.OrderBy(kv => kv.Key).Take(20).Select(kv => kv.Value)));
        }
        return checksum;
    }

    // string.GetHashCode is randomized per process; the output must not change between runs.
    static int StableHash(string s)
    {
        uint h = 2166136261;
        foreach (char ch in s) h = (h ^ ch) * 16777619;
        return (int)h;
    }

    static int Main(string[] args)
    {
        int scale = args.Length > 0 ? int.Parse(args[0]) : 1;
        Oracle.PrintConfiguration("batch");
        Oracle.Checkpoint("start");
        double a = Phase1(4_000_000 * scale);
        Oracle.Checkpoint("arrays");
        long b = Phase2(600_000 * scale);
        Oracle.Checkpoint("linq");
        int c = Phase3(40 * scale);
        Oracle.Checkpoint("chunks");
        Console.WriteLine($"batch done: {a:F3} {b} {c}");
        // An exit code to return, so a test can see the recorder pass it on.
        return args.Length > 1 ? int.Parse(args[1]) : 0;
    }
}
