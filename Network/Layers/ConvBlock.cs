namespace EnvNet.Network.Layers;

/// <summary>
/// EnvNet's convolution block: Conv2d without bias, BatchNorm2d, ReLU, held as child "module" so the state-dict
/// names are PyTorch's (<c>conv1.module.0.weight</c>, <c>conv1.module.1.running_var</c>); the module runs fused where
/// the tiled convolution applies (<see cref="ConvBatchNormReLU"/>).
/// </summary>
public sealed class ConvBlock(ConvSize size) : Sequential(
[
    ("module", new ConvBatchNormReLU(size.OutChannels, size.KernelH, size.KernelW, size.StrideH, size.StrideW)),
]);
