using System;

namespace Ingot.Specs
{
    /// <summary>The JSON spelling of every spec enum (snake_case, lowercase), both ways.</summary>
    public static class SpecNames
    {
        public static string Of(PositionKind v) => v == PositionKind.Learned ? "learned" : "none";
        public static string Of(NormKind v) => v == NormKind.LayerNorm ? "layernorm" : "rmsnorm";
        public static string Of(NormPosition v) => v == NormPosition.Post ? "post" : "pre";
        public static string Of(ResidualKind v) => v == ResidualKind.Parallel ? "parallel" : "sequential";

        public static string Of(RopeKind v)
        {
            switch (v)
            {
                case RopeKind.None: return "none";
                case RopeKind.Neox: return "neox";
                default: return "norm";
            }
        }

        public static string Of(RopeScalingKind v)
        {
            switch (v)
            {
                case RopeScalingKind.Linear: return "linear";
                case RopeScalingKind.Yarn: return "yarn";
                case RopeScalingKind.LongRope: return "longrope";
                default: return "none";
            }
        }

        public static string Of(Activation v)
        {
            switch (v)
            {
                case Activation.Gelu: return "gelu";
                case Activation.GeluErf: return "gelu_erf";
                case Activation.Relu: return "relu";
                case Activation.Tanh: return "tanh";
                default: return "silu";
            }
        }

        public static string Of(WindowLayers v)
        {
            switch (v)
            {
                case WindowLayers.All: return "all";
                case WindowLayers.Even: return "even";
                case WindowLayers.Odd: return "odd";
                default: return "none";
            }
        }

        public static string Of(PoolingKind v)
        {
            switch (v)
            {
                case PoolingKind.Mean: return "mean";
                case PoolingKind.Cls: return "cls";
                case PoolingKind.Last: return "last";
                case PoolingKind.Rank: return "rank";
                default: return "none";
            }
        }

        /// <summary>llama.cpp's pooling_type number of a pooling (LLAMA_POOLING_TYPE_*: 0 none, 1 mean, 2 cls, 3 last, 4 rank).</summary>
        public static int LlamaPoolingType(PoolingKind v)
        {
            return Array.IndexOf(LlamaPoolings, v);
        }

        /// <summary>The pooling of llama.cpp's pooling_type number, or false for a number it does not define.</summary>
        public static bool TryPoolingOfLlamaType(int type, out PoolingKind v)
        {
            bool known = type >= 0 && type < LlamaPoolings.Length;
            v = known ? LlamaPoolings[type] : PoolingKind.None;
            return known;
        }

        private static readonly PoolingKind[] LlamaPoolings = { PoolingKind.None, PoolingKind.Mean, PoolingKind.Cls, PoolingKind.Last, PoolingKind.Rank };

        /// <summary>Every value of <typeparamref name="T"/> with its name, for parsing and for "must be one of" messages.</summary>
        public static string[] All<T>() where T : struct, Enum
        {
            var values = Values<T>();
            var names = new string[values.Length];
            for (int i = 0; i < values.Length; i++) names[i] = Name(values[i]);
            return names;
        }

        // Explicit tables rather than Enum.GetValues, which NativeAOT flags (the spec model is also used at run time).
        private static T[] Values<T>() where T : struct, Enum
        {
            object values;
            if (typeof(T) == typeof(PositionKind)) values = new[] { PositionKind.None, PositionKind.Learned };
            else if (typeof(T) == typeof(NormKind)) values = new[] { NormKind.RmsNorm, NormKind.LayerNorm };
            else if (typeof(T) == typeof(NormPosition)) values = new[] { NormPosition.Pre, NormPosition.Post };
            else if (typeof(T) == typeof(ResidualKind)) values = new[] { ResidualKind.Sequential, ResidualKind.Parallel };
            else if (typeof(T) == typeof(RopeKind)) values = new[] { RopeKind.None, RopeKind.Norm, RopeKind.Neox };
            else if (typeof(T) == typeof(RopeScalingKind)) values = new[] { RopeScalingKind.None, RopeScalingKind.Linear, RopeScalingKind.Yarn, RopeScalingKind.LongRope };
            else if (typeof(T) == typeof(Activation)) values = new[] { Activation.Silu, Activation.Gelu, Activation.GeluErf, Activation.Relu, Activation.Tanh };
            else if (typeof(T) == typeof(WindowLayers)) values = new[] { WindowLayers.None, WindowLayers.All, WindowLayers.Even, WindowLayers.Odd };
            else if (typeof(T) == typeof(PoolingKind)) values = new[] { PoolingKind.None, PoolingKind.Mean, PoolingKind.Cls, PoolingKind.Last, PoolingKind.Rank };
            else throw new ArgumentOutOfRangeException(nameof(T), typeof(T).Name + " is not a spec enum");
            return (T[])values;
        }

        public static string Name<T>(T value) where T : struct, Enum
        {
            switch (value)
            {
                case PositionKind p: return Of(p);
                case NormKind n: return Of(n);
                case NormPosition np: return Of(np);
                case ResidualKind r: return Of(r);
                case RopeKind rk: return Of(rk);
                case RopeScalingKind rs: return Of(rs);
                case Activation a: return Of(a);
                case WindowLayers w: return Of(w);
                case PoolingKind pk: return Of(pk);
                default: throw new ArgumentOutOfRangeException(nameof(value));
            }
        }

        public static bool TryParse<T>(string name, out T value) where T : struct, Enum
        {
            foreach (T v in Values<T>())
            {
                if (Name(v) == name) { value = v; return true; }
            }
            value = default;
            return false;
        }

        /// <summary>Whether layer <paramref name="layer"/> is windowed under <paramref name="pattern"/> (Gemma 2: even layers 0, 2, 4, …).</summary>
        public static bool IsWindowed(WindowLayers pattern, int layer)
        {
            switch (pattern)
            {
                case WindowLayers.All: return true;
                case WindowLayers.Even: return layer % 2 == 0;
                case WindowLayers.Odd: return layer % 2 == 1;
                default: return false;
            }
        }
    }
}
