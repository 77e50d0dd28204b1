using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Axentra.Audit.Tests.Support;

/// <summary>Sums the audit meter's counters (and counts histogram records) of one meter factory.</summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _values = new(StringComparer.Ordinal);

    public MetricRecorder(IMeterFactory factory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == AuditMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _values.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        _listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => _values.AddOrUpdate(instrument.Name, 1, (_, count) => count + 1));
        _listener.Start();
    }

    public long this[string instrument] => _values.GetValueOrDefault(instrument);

    public void Dispose() => _listener.Dispose();
}
