namespace Ingot.Chat.Tests;
public class SmokeTests { [Xunit.Fact] public void ProjectBuilds() => Xunit.Assert.NotNull(typeof(SmokeTests).Assembly); }
