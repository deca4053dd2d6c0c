// An image service on the Strata package: load archives over HTTP, list and inspect what is stored, and hand images
// back as OCI archives. One engine serves every request; its calls may run at once.
//
//   dotnet run -- --Strata:Root=/var/lib/image-service --urls=http://127.0.0.1:8080
//   curl --data-binary @image.tar http://127.0.0.1:8080/load
//   curl http://127.0.0.1:8080/images
//   curl -o out.tar http://127.0.0.1:8080/images/example.com/app:1/archive
using Strata.Engine;
using Strata.Errors;
using Strata.Images;
using Strata.Union;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton(services => new StrataEngine(new StrataEngineOptions
{
    Root = builder.Configuration["Strata:Root"] ?? Path.Combine(Path.GetTempPath(), "strata-service"),
    Driver = StorageDriver.Vfs, // this service never mounts
    LoggerFactory = services.GetRequiredService<ILoggerFactory>(),
}));
var app = builder.Build();

// Strata's error kinds become HTTP statuses, its one-line message the body.
app.Use(async (context, next) =>
{
    try
    {
        await next(context);
    }
    catch (StrataException e)
    {
        context.Response.StatusCode = e.Kind switch
        {
            ErrorKind.NotFound => StatusCodes.Status404NotFound,
            ErrorKind.InvalidArgument or ErrorKind.InvalidContent or ErrorKind.DigestMismatch => StatusCodes.Status400BadRequest,
            ErrorKind.Conflict or ErrorKind.AlreadyExists => StatusCodes.Status409Conflict,
            ErrorKind.Unsupported => StatusCodes.Status415UnsupportedMediaType,
            ErrorKind.Storage => StatusCodes.Status507InsufficientStorage,
            _ => StatusCodes.Status500InternalServerError,
        };
        await context.Response.WriteAsync(e.Message + "\n");
    }
});

app.MapPost("/load", async (HttpRequest request, StrataEngine engine, CancellationToken ct) =>
    (await engine.LoadFromStreamAsync(request.Body, "the request body", ct)).Select(i => new { id = i.Id.ToString(), names = i.Names }));

app.MapGet("/images", async (StrataEngine engine, CancellationToken ct) =>
    (await engine.ListImagesAsync(ct)).Select(i => new { id = i.Id.ToString(), names = i.Names, size = i.Size }));

app.MapGet("/images/{**image}", async (string image, HttpContext context, StrataEngine engine, CancellationToken ct) =>
{
    if (image.EndsWith("/archive", StringComparison.Ordinal))
    {
        var name = image[..^"/archive".Length];
        await engine.InspectImageAsync(name, ct); // a missing image is a 404, not a half-written 200
        context.Response.ContentType = "application/x-tar";
        await engine.SaveToStreamAsync([name], context.Response.Body, SaveFormat.OciArchive, ct);
        return Results.Empty;
    }
    var details = await engine.InspectImageAsync(image, ct);
    return Results.Ok(new
    {
        id = details.Id.ToString(),
        names = details.Record.Names,
        architecture = details.Config.Architecture,
        layers = details.Manifest.Layers.Select(l => new { digest = l.Digest.ToString(), size = l.Size }),
        cmd = details.Config.Config?.Cmd,
    });
});

app.Run();
