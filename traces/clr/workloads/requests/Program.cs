// A request-serving process: worker threads take JSON requests from a queue, answer them from
// a size-bounded cache (misses build a response object graph), and serialize the response.
// Deterministic request stream (fixed seed); the figures printed by Oracle are what a
// recording of this process is checked against.
using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;

record Request(int Id, string Customer, string Product, int Quantity);
record LineItem(string Sku, int Quantity, decimal Price, string[] Tags);
record Response(int RequestId, string Customer, List<LineItem> Items, decimal Total, string Note);

static class Program
{
    const int Workers = 4;
    const int CacheCapacity = 20_000;

    static readonly ConcurrentDictionary<string, Response> Cache = new();
    static readonly ConcurrentQueue<string> CacheOrder = new();
    static long s_bytesOut;

    static Response Build(Request r)
    {
        var rng = new Random(r.Id);
        var items = new List<LineItem>();
        for (int i = 0; i < 3 + rng.Next(12); i++)
        {
            var tags = Enumerable.Range(0, rng.Next(4)).Select(t => $"tag-{rng.Next(50)}").ToArray();
            items.Add(new LineItem($"{r.Product}-{i}", 1 + rng.Next(r.Quantity), rng.Next(100, 10000) / 100m, tags));
        }
        var total = items.Sum(it => it.Price * it.Quantity);
        return new Response(r.Id, r.Customer, items, total, new string('x', rng.Next(64, 2048)));
    }

    static string Serve(string requestJson)
    {
        var r = JsonSerializer.Deserialize<Request>(requestJson)!;
        string key = $"{r.Customer}/{r.Product}/{r.Quantity}";
        if (!Cache.TryGetValue(key, out var response))
        {
            response = Build(r);
            if (Cache.TryAdd(key, response))
            {
                CacheOrder.Enqueue(key);
                while (Cache.Count > CacheCapacity && CacheOrder.TryDequeue(out var old))
                    Cache.TryRemove(old, out _);
            }
        }
        return JsonSerializer.Serialize(response);
    }

    static async Task RunPhase(int requests, int seed)
    {
        var channel = Channel.CreateBounded<string>(1024);
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            await foreach (var json in channel.Reader.ReadAllAsync())
                Interlocked.Add(ref s_bytesOut, Serve(json).Length);
        })).ToArray();
        var rng = new Random(seed);
        for (int i = 0; i < requests; i++)
        {
            var req = new Request(i, $"customer-{rng.Next(3000)}", $"product-{rng.Next(200)}", 1 + rng.Next(5));
            await channel.Writer.WriteAsync(JsonSerializer.Serialize(req));
        }
        channel.Writer.Complete();
        await Task.WhenAll(workers);
    }

    static async Task<int> Main(string[] args)
    {
        int requests = args.Length > 0 ? int.Parse(args[0]) : 60_000;
        Oracle.PrintConfiguration("requests");
        Oracle.Checkpoint("start");
        await RunPhase(requests / 4, 1);
        Oracle.Checkpoint("warm");
        await RunPhase(requests, 2);
        Oracle.Checkpoint("loaded");
        Cache.Clear();
        while (CacheOrder.TryDequeue(out _)) { }
        Oracle.Checkpoint("cache-cleared");
        Console.WriteLine($"served {requests + requests / 4} requests, {s_bytesOut} response bytes");
        return 0;
    }
}
