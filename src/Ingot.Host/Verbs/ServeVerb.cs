using System.Globalization;
using Ingot.Host.Chat;
using Ingot.Host.CommandLine;
using Ingot.Host.Server;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>serve [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--parallel N]</c>: the OpenAI-compatible HTTP API
/// (<see cref="OpenAiServer"/>) until Ctrl+C, with up to N requests generated at once in one batch per step. It binds
/// to loopback unless told otherwise.
/// </summary>
public sealed class ServeVerb : IHostVerb
{
    public string Name => "serve";
    public string Summary => "an OpenAI-compatible HTTP server (/v1/chat/completions, /v1/completions, /v1/models)";

    public string Usage(string program) =>
        $"usage: {program} serve [--host H] [--port P] [--api-key KEY] [--parallel N] [--chat-template F] [--ctx N] [-t N] [--model PATH]\n\n" +
        "      --host H            address to bind (default 127.0.0.1, loopback only)\n" +
        "      --port P            TCP port (default 8080)\n" +
        "      --api-key KEY       require Authorization: Bearer KEY on every endpoint but /health\n" +
        "      --parallel N        requests generated at once, batched into one model step (default 4); more queue\n" +
        "      --chat-template F   this .jinja template instead of the model's tokenizer.chat_template\n" +
        "      --ctx N             KV cache per request in tokens (default: the spec's context, at most 4096); the cache holds N × --parallel\n" +
        "  -t, --threads N         worker threads (default: all cores)\n" +
        "      --model PATH        weights file (default: <exe dir>/<model>.gguf)\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        string host = args.OptionOr("127.0.0.1", "--host");
        int port = args.Int(8080, "--port");
        string? apiKey = args.OptionOrNull("--api-key");
        string? templatePath = args.OptionOrNull("--chat-template");
        int parallel = args.Int(4, "--parallel", "-np");
        args.ThrowIfUnknown();
        if (parallel is < 1 or > 256) throw new UsageException("--parallel must be 1..256");
        if (port is < 0 or > 65535) throw new UsageException("--port must be 0..65535");
        if (apiKey is { Length: 0 }) throw new UsageException("--api-key must not be empty");

        using var weights = context.OpenWeights();
        var template = templatePath is not null || weights.TryGetValue("tokenizer.chat_template", out _) ? ChatSession.LoadTemplate(weights, templatePath) : null;
        context.LoadModel(weights, 0, parallel);
        var server = new OpenAiServer(context.Causal, HostContext.LoadTokenizer(weights), template, new OpenAiServer.Settings(host, port, apiKey));
        try
        {
            server.StartAsync(context.Cancellation).GetAwaiter().GetResult();
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{context.Program}: serving {context.Model.Description.Name} on http://{host}:{port} ({parallel} at once, context {context.Causal.ContextSize} each{(template is null ? ", no chat template: /v1/chat/completions answers 400" : "")}); Ctrl+C stops"));
            // Ctrl+C (the host's cancellation) or SIGTERM (kill, docker stop, systemd: the web host's lifetime stops the app)
            WaitHandle.WaitAny([context.Cancellation.WaitHandle, server.Stopping.WaitHandle]);
            server.StopAsync().GetAwaiter().GetResult();
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"cannot listen on {host}:{port}: {e.Message}");
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return 0;
    }
}
