using Ingot.Generators.Planning;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// What an app calls on a compiled model (the README's "Use it from your app"): a static Load(path) that opens and owns
    /// the GGUF file. The context defaults to 4096 tokens, as llama.cpp's does, or to the trained context for learned
    /// positions. Then, by kind:
    /// <list type="bullet">
    /// <item>a causal LM gets GenerateAsync, which streams a continuation through the runtime's TextGenerator with the
    /// file's own tokenizer, and AsChatClient, the runtime's ModelChatClient over the same generator;</item>
    /// <item>an encoder gets AsEmbeddingGenerator (the runtime's ModelEmbeddingGenerator).</item>
    /// </list>
    /// An encoder–decoder (T5) and the encoder stack nested in one get neither yet.
    /// </summary>
    internal static class AppApiEmitter
    {
        public static void Emit(SourceWriter w, ModelPlan p, string className)
        {
            bool causal = !p.IsEncoder;
            string gc = ModelEmitter.GeneratedCodeAttribute;
            bool learned = p.Spec.Embedding.Positions == Specs.PositionKind.Learned;
            w.Line("/// <summary>KV capacity when InferenceOptions.ContextSize is 0 in <see cref=\"Load(string, InferenceOptions?)\"/>: " +
                   (learned ? "the trained context (learned positions end there)." : "4096 tokens, llama.cpp's default.") + "</summary>");
            w.Line("public const int DefaultContextSize = " + (learned ? "ContextLength" : "4096") + ";");
            w.Line();
            w.Line("private GgufFile? _ownedWeights;   // the file Load(path) opened; closed by Dispose");
            if (causal) w.Line("private Ingot.Runtime.Generation.TextGenerator? _generator;");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Opens <paramref name=\"path\"/> (a GGUF file, memory-mapped), checks it against the compiled spec and binds its");
            w.Line("/// weights. The model owns the file and closes it in Dispose. A ContextSize of 0 takes <see cref=\"DefaultContextSize\"/>.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"System.IO.FileNotFoundException\">The file does not exist.</exception>");
            w.Line("/// <exception cref=\"InvalidModelFileException\">The file is not a readable GGUF file (the message names the offset).</exception>");
            w.Line("/// <exception cref=\"WeightMismatchException\">The file is another model's (the message names the key or tensor and both values).</exception>");
            w.Line(gc);
            w.Open("public static " + className + " Load(string path, InferenceOptions? options = null)");
            w.Line("ArgumentNullException.ThrowIfNull(path);");
            w.Line("options ??= new InferenceOptions();");
            w.Line("if (options.ContextSize == 0) options = options with { ContextSize = DefaultContextSize };");
            w.Line("var file = GgufFile.Open(path);");
            w.Line("var model = new " + className + "();");
            w.Open("try");
            w.Line("model.Load(file, options);");
            w.Close();
            w.Open("catch");
            w.Line("model.Dispose();");
            w.Line("file.Dispose();");
            w.Line("throw;");
            w.Close();
            w.Line("model._ownedWeights = file;");
            w.Line("return model;");
            w.Close();
            w.Line();
            if (!causal)
            {
                w.Line("/// <summary>");
                w.Line("/// This encoder as Microsoft.Extensions.AI's IEmbeddingGenerator: texts tokenized with the file's tokenizer, run in");
                w.Line("/// batches, pooled as the file says and L2-normalized unless <paramref name=\"normalize\"/> is false.");
                w.Line("/// </summary>");
                w.Line(gc);
                w.Line("public Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> AsEmbeddingGenerator(bool normalize = true) =>");
                w.Line("    new Ingot.Runtime.Generation.ModelEmbeddingGenerator(this, Ingot.Runtime.Generation.TokenizerCodec.FromGguf(_weights ?? throw new InvalidOperationException(\"Load must be called before embedding\")), normalize);");
                w.Line();
                return;
            }
            w.Line("/// <summary>The generation loop over this model and its file's tokenizer and end-of-turn tokens (made on first use).</summary>");
            w.Line(gc);
            w.Line("public Ingot.Runtime.Generation.TextGenerator Generator =>");
            w.Line("    _generator ??= new Ingot.Runtime.Generation.TextGenerator(this, Ingot.Runtime.Generation.TokenizerCodec.FromGguf(_weights ?? throw new InvalidOperationException(\"Load must be called before generating\")));");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Streams the continuation of <paramref name=\"prompt\"/> (tokenized with the file's tokenizer, BOS as it says; the");
            w.Line("/// prompt itself is not repeated) piece by piece. The model runs on the enumerating thread. Cancellation stops it");
            w.Line("/// within one token with OperationCanceledException; <c>Generator.LastResult</c> holds the counts afterwards.");
            w.Line("/// </summary>");
            w.Line(gc);
            w.Line("public System.Collections.Generic.IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions? options = null, System.Threading.CancellationToken cancellationToken = default) =>");
            w.Line("    Generator.GenerateAsync(prompt, options ?? new GenerationOptions(), cancellationToken);");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// This model as Microsoft.Extensions.AI's IChatClient, rendering conversations with its file's own chat template");
            w.Line("/// (tokenizer.chat_template; a file without one is an InvalidModelFileException naming the key).");
            w.Line("/// </summary>");
            w.Line(gc);
            w.Line("public Microsoft.Extensions.AI.IChatClient AsChatClient() =>");
            w.Line("    AsChatClient(Ingot.Runtime.Chat.ChatTemplate.FromGguf(_weights ?? throw new InvalidOperationException(\"Load must be called before chatting\")));");
            w.Line();
            w.Line("/// <summary>This model as an IChatClient that renders conversations with <paramref name=\"template\"/>.</summary>");
            w.Line(gc);
            w.Line("public Microsoft.Extensions.AI.IChatClient AsChatClient(Ingot.Runtime.Chat.ChatTemplate template) => new Ingot.Runtime.Chat.ModelChatClient(this, Generator, template);");
            w.Line();
        }

        /// <summary>ReleaseBuffers' part: a causal model's generation loop belongs to the file it was bound to.</summary>
        public static void Release(SourceWriter w, ModelPlan p, bool nested)
        {
            if (Applies(p, nested) && !p.IsEncoder) w.Line("_generator = null;");
        }

        /// <summary>Dispose's part: the file Load(path) opened.</summary>
        public static void DisposeOwned(SourceWriter w, ModelPlan p, bool nested)
        {
            if (!Applies(p, nested)) return;
            w.Line("_ownedWeights?.Dispose();");
            w.Line("_ownedWeights = null;");
        }

        /// <summary>A causal LM, or an encoder that is not nested in an encoder–decoder.</summary>
        public static bool Applies(ModelPlan p, bool nested) => p.IsEncoder ? !nested : p.Encoder == null;
    }
}
