namespace EnvNet.Tests.References;

/// <summary>Softmax and KL(t ‖ softmax(z)) per row in float64, with the gradient of the batch mean.</summary>
public static class LossReference
{
    public static (double[] RowLosses, double[] GradLogits) SoftmaxKl(double[] logits, double[] targets, int rows, int classes)
    {
        var losses = new double[rows];
        var grad = new double[rows * classes];
        for (var r = 0; r < rows; r++)
        {
            var offset = r * classes;
            var max = double.NegativeInfinity;
            for (var c = 0; c < classes; c++) max = Math.Max(max, logits[offset + c]);
            double sum = 0;
            for (var c = 0; c < classes; c++) sum += Math.Exp(logits[offset + c] - max);
            var logSum = max + Math.Log(sum);
            for (var c = 0; c < classes; c++)
            {
                var logP = logits[offset + c] - logSum;
                var t = targets[offset + c];
                if (t > 0) losses[r] += t * (Math.Log(t) - logP);
                grad[offset + c] = (Math.Exp(logP) - t) / rows;
            }
        }
        return (losses, grad);
    }

    public static double MeanLoss(double[] logits, double[] targets, int rows, int classes) =>
        SoftmaxKl(logits, targets, rows, classes).RowLosses.Average();
}
