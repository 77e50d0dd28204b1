using Microsoft.Extensions.DependencyInjection;

namespace Axentra.BuildingBlocks;

public static class ServiceCollectionDecoration
{
    /// <summary>
    /// Replaces the last registration of <typeparamref name="T"/> with a decorator around what it registered, keeping
    /// its lifetime (the instrumentation decorators, and the tests' fault injection at the same ports).
    /// </summary>
    public static IServiceCollection Decorate<T>(this IServiceCollection services, Func<IServiceProvider, T, T> decorate)
        where T : class
    {
        var descriptor = services.Last(d => d.ServiceType == typeof(T));
        services.Remove(descriptor);
        services.Add(ServiceDescriptor.Describe(typeof(T), sp =>
        {
            var inner = descriptor.ImplementationInstance as T
                ?? (descriptor.ImplementationFactory is { } factory ? (T)factory(sp) : (T)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!));
            return decorate(sp, inner);
        }, descriptor.Lifetime));
        return services;
    }
}
