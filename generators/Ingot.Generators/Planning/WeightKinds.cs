using System;

namespace Ingot.Generators.Planning
{
    /// <summary>
    /// One traits table for the weight types the generator compiles: ggml name, block shape, activation partner and
    /// the runtime kernel that multiplies them. Sizes agree with Ingot.Formats.GgmlTypeTraits (a test checks).
    /// </summary>
    public static class WeightKinds
    {
        /// <summary>Every kind, in the order the planner lists them in ING0004.</summary>
        public static readonly WeightKind[] All =
        {
            WeightKind.F32, WeightKind.F16, WeightKind.BF16, WeightKind.Q8_0, WeightKind.Q4_0, WeightKind.Q4_1,
            WeightKind.Q5_0, WeightKind.Q5_1, WeightKind.IQ4_NL, WeightKind.Q2_K, WeightKind.Q3_K, WeightKind.Q4_K,
            WeightKind.Q5_K, WeightKind.Q6_K, WeightKind.IQ4_XS,
        };

        /// <summary>ggml's lowercase name ("q4_k").</summary>
        public static string Name(WeightKind k) => k.ToString().ToLowerInvariant();

        public static bool TryParse(string name, out WeightKind kind)
        {
            foreach (var k in All)
            {
                if (Name(k) == name) { kind = k; return true; }
            }
            kind = WeightKind.F32;
            return false;
        }

        /// <summary>Elements per block: 1 for floats, 32 for the *_0/*_1/IQ4_NL types, 256 for K types and IQ4_XS.</summary>
        public static int BlockSize(WeightKind k)
        {
            switch (k)
            {
                case WeightKind.F32: case WeightKind.F16: case WeightKind.BF16: return 1;
                case WeightKind.Q2_K: case WeightKind.Q3_K: case WeightKind.Q4_K: case WeightKind.Q5_K: case WeightKind.Q6_K: case WeightKind.IQ4_XS: return 256;
                default: return 32;
            }
        }

        /// <summary>Bytes per block (ggml's block structs).</summary>
        public static int BlockBytes(WeightKind k)
        {
            switch (k)
            {
                case WeightKind.F32: return 4;
                case WeightKind.F16: case WeightKind.BF16: return 2;
                case WeightKind.Q8_0: return 34;
                case WeightKind.Q4_0: case WeightKind.IQ4_NL: return 18;
                case WeightKind.Q4_1: return 20;
                case WeightKind.Q5_0: return 22;
                case WeightKind.Q5_1: return 24;
                case WeightKind.Q2_K: return 84;
                case WeightKind.Q3_K: return 110;
                case WeightKind.Q4_K: return 144;
                case WeightKind.Q5_K: return 176;
                case WeightKind.Q6_K: return 210;
                case WeightKind.IQ4_XS: return 136;
                default: throw new ArgumentOutOfRangeException(nameof(k));
            }
        }

        public static long RowBytes(WeightKind k, long cols) => cols / BlockSize(k) * BlockBytes(k);

        /// <summary>ggml's vec_dot_type: the activation form this weight type is multiplied with.</summary>
        public static ActKind Act(WeightKind k)
        {
            switch (k)
            {
                case WeightKind.F32: return ActKind.F32;
                case WeightKind.F16: return ActKind.F16;
                case WeightKind.BF16: return ActKind.BF16;
                case WeightKind.Q4_1: case WeightKind.Q5_1: return ActKind.Q8_1;
                case WeightKind.Q2_K: case WeightKind.Q3_K: case WeightKind.Q4_K: case WeightKind.Q5_K: case WeightKind.Q6_K: case WeightKind.IQ4_XS: return ActKind.Q8_K;
                default: return ActKind.Q8_0;
            }
        }

        /// <summary>The runtime kernel: "Dot.F32", "Dot.F16F16", "VecDot.Q4_KQ8_K", …</summary>
        public static string Kernel(WeightKind k)
        {
            switch (k)
            {
                case WeightKind.F32: return "Dot.F32";
                case WeightKind.F16: return "Dot.F16F16";
                case WeightKind.BF16: return "VecDot.BF16BF16";
                default: return "VecDot." + k + ActName(Act(k)).ToUpperInvariant();
            }
        }

        /// <summary>ggml's name of an activation form ("q8_K" is spelled as ggml does, with a capital K).</summary>
        public static string ActName(ActKind a)
        {
            switch (a)
            {
                case ActKind.F32: return "f32";
                case ActKind.F16: return "f16";
                case ActKind.BF16: return "bf16";
                case ActKind.Q8_0: return "q8_0";
                case ActKind.Q8_1: return "q8_1";
                case ActKind.Q8_0Lanes: return "q8_0 token lanes";
                case ActKind.Q8_KTiles: return "q8_K AMX tiles";
                case ActKind.Q8_0Pairs: return "q8_0 token pairs";
                default: return "q8_K";
            }
        }

        /// <summary>
        /// Whether weights of kind k read activation form a: their partner form (<see cref="Act"/>), for Q4_0 also the
        /// q8_0 rows in token lanes, which its prefill GEMM reads, for Q8_0, Q5_0 and IQ4_NL the q8_0 rows in token pairs,
        /// and for the K-quants and IQ4_XS the q8_K rows as AMX tiles (all prepared once per matmul input, not once per tile).
        /// </summary>
        public static bool Needs(WeightKind k, ActKind a) => Act(k) == a || (k == WeightKind.Q4_0 && a == ActKind.Q8_0Lanes)
            || (a == ActKind.Q8_KTiles && (k == WeightKind.Q2_K || k == WeightKind.Q3_K || k == WeightKind.Q4_K || k == WeightKind.Q5_K || k == WeightKind.Q6_K || k == WeightKind.IQ4_XS))
            || (a == ActKind.Q8_0Pairs && (k == WeightKind.Q8_0 || k == WeightKind.Q5_0 || k == WeightKind.IQ4_NL));

        /// <summary>Bytes of one activation row of <paramref name="cols"/> values in form <paramref name="a"/>.</summary>
        public static long ActRowBytes(ActKind a, long cols)
        {
            switch (a)
            {
                case ActKind.F32: return cols * 4;
                case ActKind.F16: case ActKind.BF16: return cols * 2;
                case ActKind.Q8_0: return cols / 32 * 34;
                case ActKind.Q8_1: return cols / 32 * 36;
                case ActKind.Q8_0Lanes: return cols / 32 * 48; // per block: 320 bytes per group of 8 tokens, then 8 per token for the x16 kernel's table (Q8_0Lanes.PreparedBytes)
                case ActKind.Q8_KTiles: return cols / 256 * 276; // per token and super-block: 256 bytes of tiles, its d and 4 sums
                case ActKind.Q8_0Pairs: return cols / 32 * 64; // per token and block: its codes + 128 and d ×8 (128 bytes per pair)
                default: return cols / 256 * 292;
            }
        }

        /// <summary>Field / local / buffer names of an activation form in generated code (Act8 and Act16 predate the others).</summary>
        public static string ActField(ActKind a)
        {
            switch (a)
            {
                case ActKind.F32: return "Act32";
                case ActKind.F16: return "Act16";
                case ActKind.BF16: return "ActBf16";
                case ActKind.Q8_0: return "Act8";
                case ActKind.Q8_1: return "Act81";
                case ActKind.Q8_0Lanes: return "ActLanes8";
                case ActKind.Q8_KTiles: return "ActTiles8K";
                case ActKind.Q8_0Pairs: return "ActPairs8";
                default: return "Act8K";
            }
        }
    }
}
