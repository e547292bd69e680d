using System.Runtime.InteropServices;
using Ingot.Runtime.Kernels;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Intel AMX (Advanced Matrix Extensions: Sapphire Rapids and later) for the int8 prefill GEMMs. .NET 10 has no AMX
/// intrinsics, so the two routines that need AMX instructions are machine code in <see cref="MachineCode"/>'s page
/// (<c>Kernels/MachineCode.s</c>). Everything around them (the weight unpacking, the float epilogue in ggml's order) is
/// C#.
/// <list type="bullet">
/// <item><c>perm</c>: arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), which Linux requires once per process before
/// any thread touches the tile registers;</item>
/// <item><c>gemm</c>: per 32-element block b, two 16×16 int32 tiles C[b][i] = A_i[b]·B[b] (tdpbssd, both sides signed
/// int8), where A_0, A_1 are two tiles of up to 16 tokens read straight from their Q8_0 rows (32 codes per row at a
/// stride) and B[b] is 16 weight rows' codes in AMX's pair layout (row k = dword k of each weight row, 512 bytes per
/// block); C is 2 KB per block, [C0: 16 tokens × 16 rows | C1].</item>
/// </list>
/// Used only where the CPU reports AMX-TILE and AMX-INT8, 512-bit vectors are accelerated (the epilogue), the kernel
/// grants the tile data permission, and <c>INGOT_AMX</c> is not <c>0</c> (to measure or test the AVX paths on an AMX
/// machine).
/// </summary>
internal static unsafe class Amx
{
    /// <summary>Whether the AMX kernels run on this machine (decided once).</summary>
    public static readonly bool Supported;

    private static readonly delegate* unmanaged<Args*, void> s_gemm;

    /// <summary>The arguments of <c>gemm</c> (MachineCode.s), by reference: 7 fields of 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public byte* Config;        // 64-byte tile configuration (ldtilecfg, <see cref="Configure"/>)
        public byte* A0, A1;        // the codes of block 0 of each token tile's first row
        public nint AStride;        // bytes between token rows
        public sbyte* B;            // block 0 of the weight tile in pair layout
        public int* C;
        public nint Blocks;
    }

    /// <summary>
    /// gemm's tile shapes for token tiles of m0 and m1 rows (1..16; a tile never reads a row past its last token):
    /// tmm0/tmm1 m × 32 bytes (A), tmm2 8 × 64 (B), tmm4/tmm5 m × 64 (C).
    /// </summary>
    public static void Configure(byte* config, int m0, int m1)
    {
        new Span<byte>(config, 64).Clear();
        config[0] = 1; // palette 1
        SetTile(config, 0, (byte)m0, 32);
        SetTile(config, 1, (byte)m1, 32);
        SetTile(config, 2, 8, 64);
        SetTile(config, 4, (byte)m0, 64);
        SetTile(config, 5, (byte)m1, 64);
    }

    /// <summary>
    /// The config to pass for token tiles of m0 and m1 rows: written at config and returned when this thread's tiles are
    /// configured otherwise, else null (gemm then skips ldtilecfg, which costs about as much as a few blocks of work;
    /// the tiles stay configured between calls, as the kernel keeps a thread's AMX state across switches).
    /// </summary>
    public static byte* ConfigureOnce(byte* config, int m0, int m1)
    {
        int shape = m0 | m1 << 8;
        if (t_shape == shape) return null;
        Configure(config, m0, m1);
        t_shape = shape;
        return config;
    }

    [ThreadStatic] private static int t_shape;

    private static void SetTile(byte* config, int tile, byte rows, ushort bytesPerRow)
    {
        ((ushort*)(config + 16))[tile] = bytesPerRow;
        config[48 + tile] = rows;
    }

    public static void Gemm(Args* args) => s_gemm(args);

    static Amx()
    {
        if (!Available()) return;
        byte* page = MachineCode.Page;
        if (page == null) return;
        if (((delegate* unmanaged<long>)(page + MachineCode.PermOffset))() != 0) return; // the kernel refused (older than 5.16, or no AMX)
        s_gemm = (delegate* unmanaged<Args*, void>)(page + MachineCode.GemmOffset);
        Supported = true;
    }

    private static bool Available()
    {
        if (!OperatingSystem.IsLinux() || !X86Base.IsSupported || !Vector512.IsHardwareAccelerated || !Avx512F.IsSupported) return false;
        if (Environment.GetEnvironmentVariable("INGOT_AMX") == "0") return false;
        if (X86Base.CpuId(0, 0).Eax < 7) return false;
        int edx = X86Base.CpuId(7, 0).Edx;
        return (edx & (1 << 24)) != 0 && (edx & (1 << 25)) != 0; // AMX-TILE, AMX-INT8
    }
}
