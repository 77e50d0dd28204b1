// The bare endpoint the benchmark compares intake against: Kestrel with the default minimal-API pipeline, reading
// each body to its end (as intake must) and answering 202 with a small JSON receipt. No auth, parsing or storage.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

app.MapGet("/readyz", () => Results.Text("Healthy"));
app.MapPost("/webhooks/supabase", async (HttpRequest request) =>
{
    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
    while (await request.Body.ReadAsync(buffer).ConfigureAwait(false) > 0)
    {
    }

    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);

    return Results.Text("""{"status":"accepted"}""", "application/json", statusCode: StatusCodes.Status202Accepted);
});

await app.RunAsync().ConfigureAwait(false);
