using System.Collections.Concurrent;
using System.Diagnostics;
using EnvNet.Kernels;
using EnvNet.Kernels.Tiled;
using EnvNet.Network;
using EnvNet.Training.Commands;

namespace EnvNet.Tests;

/// <summary>
/// Every kernel the CUDA backend can load (<see cref="TiledKernelBackend.EntryPoints"/>), compiled to PTX for each
/// checked architecture (<see cref="CudaTarget.Checked"/>) without a GPU: ILGPU compiles a kernel when it is first
/// launched, so a kernel that PTX cannot express would otherwise fail only on a user's GPU. The tiled convolutions are
/// compiled with every specialised shape that the registered models' layers are planned with.
/// </summary>
[TestClass]
[TestCategory("CudaPtx")]
public sealed class CudaPtxCompileTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>The plans the registered models' convolutions get on <paramref name="target"/> at their recipes' batch.</summary>
    public static IReadOnlyList<TiledConvPlan> ModelPlans(CudaTarget target) =>
        RegisteredModelLayers.All
            .Where(l => l.Layer.Conv is not null)
            .Select(l => CudaPlanView.ConvPlan(l.Layer.Conv!.Value.WithBatch(l.RecipeBatch), target))
            .OfType<TiledConvPlan>().ToList();

    [TestMethod]
    public void EveryKernelOfTheCudaBackend_CompilesToPtx_ForEachCheckedArchitecture()
    {
        var failures = new ConcurrentBag<string>();
        var counts = new ConcurrentDictionary<string, (int Kernels, int Compiled, int Target, double Seconds)>();
        var plans = CudaTarget.Checked.ToDictionary(t => t, ModelPlans);
        // One architecture per core: each has its own context and backend.
        Parallel.ForEach(CudaTarget.Checked, target =>
        {
            var watch = Stopwatch.StartNew();
            var entries = TiledKernelBackend.EntryPoints(plans[target]);
            var compiler = new PtxCompiler(target);
            var (compiled, emitted) = (0, 0);
            foreach (var entry in entries)
            {
                if (entry.IsSpecialized && entry.SpecializedValues.Count == 0)
                    failures.Add($"{target.Name} {entry.Name}: takes a SpecializedValue but the catalogue lists no value to compile it with");
                try
                {
                    foreach (var (value, ptx) in compiler.Compile(entry, entry.SpecializedValues))
                    {
                        compiled++;
                        var name = $"{target.Name} {entry.Name}{(value is null ? "" : $" [{value}]")}";
                        emitted = Math.Max(emitted, PtxCompiler.TargetArchitecture(ptx));
                        if (PtxCompiler.TargetArchitecture(ptx) is var arch && (arch < 60 || arch > target.Architecture.Major * 10 + target.Architecture.Minor))
                            failures.Add($"{name}: PTX for sm_{arch}");
                        var shared = PtxCompiler.StaticSharedBytes(ptx);
                        if (shared > CudaTarget.MaxSharedBytesPerGroup)
                            failures.Add($"{name}: {shared} bytes of static shared memory, over {CudaTarget.MaxSharedBytesPerGroup}");
                        if (entry.GroupSpecialization.MaxNumThreadsPerGroup is { } max && !ptx.Contains($".maxntid {max}", StringComparison.Ordinal))
                            failures.Add($"{name}: compiled without .maxntid {max}");
                    }
                }
                catch (Exception e)
                {
                    failures.Add($"{target.Name} {entry.Name}: {Describe(e)}");
                    // ILGPU leaves a context broken after a kernel it cannot compile: go on with a fresh one.
                    compiler.Dispose();
                    compiler = new PtxCompiler(target);
                }
            }
            compiler.Dispose();
            counts[target.Name] = (entries.Count, compiled, emitted, watch.Elapsed.TotalSeconds);
            TestContext.WriteLine($"{target.Name}: " + string.Join(", ", entries.Where(e => e.IsSpecialized)
                .Select(e => $"{e.Method.Name} with {e.SpecializedValues.Count} specialised shapes")));
        });

        foreach (var (name, (kernels, compiled, emitted, seconds)) in counts.OrderBy(c => c.Key))
            TestContext.WriteLine($"{name}: {kernels} kernels, {compiled} PTX kernels with the specialisations (.target sm_{emitted}) in {seconds:F1} s");
        Assert.IsEmpty(failures, string.Join("\n", failures.Order()));
        Assert.HasCount(CudaTarget.Checked.Count, counts);
    }

    /// <summary>The exception and its inner ones: ILGPU wraps the reason (an unsupported call, a managed allocation) in
    /// an internal compiler error.</summary>
    private static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException) parts.Add($"{x.GetType().Name}: {x.Message}");
        return string.Join(" ← ", parts);
    }

    [TestMethod]
    public void TheCatalogue_SpecialisesTheTiledConvolutionsWithEveryModelsPlans()
    {
        var plans = ModelPlans(CudaTarget.Hopper);
        var entries = TiledKernelBackend.EntryPoints(plans);
        var correlate = entries.Single(e => e.Method.Name == nameof(TiledConvKernels.Correlate));
        var weight = entries.Single(e => e.Method.Name == nameof(TiledConvKernels.WeightGradientPartial));
        foreach (var plan in plans)
        {
            CollectionAssert.Contains(correlate.SpecializedValues.ToList(), plan.Forward, plan.Conv.ToString());
            foreach (var (_, shape, _) in plan.InputGradient)
                CollectionAssert.Contains(correlate.SpecializedValues.ToList(), shape, plan.Conv.ToString());
            CollectionAssert.Contains(weight.SpecializedValues.ToList(), plan.WeightGradient, plan.Conv.ToString());
        }
        Assert.IsNotEmpty(plans, "the registered models have tiled convolutions");
        Assert.AreEqual(entries.Count, entries.Select(e => e.Method).Distinct().Count(), "each kernel listed once");
    }
}
