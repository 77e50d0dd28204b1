using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.ServiceDefaults;

/// <summary>
/// Every error body is a ProblemDetails, whatever the caller accepts (design.md §3). ASP.NET Core's own writer declines
/// a request whose <c>Accept</c> leaves JSON out, and then the status-code pages wrote plain text and the 503 handler
/// no body at all. Tried after it, this writer has that same writer write the ProblemDetails anyway (its write does
/// not look at <c>Accept</c>), so the body is the one any other caller gets.
/// </summary>
internal sealed class ProblemDetailsWhateverAccepted(IServiceProvider services) : IProblemDetailsWriter
{
    private IProblemDetailsWriter? _writer;

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        _writer ??= services.GetServices<IProblemDetailsWriter>().First(w => w is not ProblemDetailsWhateverAccepted);
        return _writer.WriteAsync(context);
    }
}
