namespace Ingot.Runtime.Grammars;

/// <summary>
/// The token vocabulary as the grammar sees it: every token's bytes (BPE's Ġ and SentencePiece's ▁ and &lt;0xNN&gt; undone,
/// special tokens empty) in a byte trie, so a mask walks each shared prefix once. Built once per tokenizer.
/// The trie is stored flat in depth-first preorder: node i has the byte <see cref="Bytes"/>[i] on the edge into it, its
/// depth, and <see cref="Skip"/>[i], the first node after its subtree, so a walk that finds a prefix dead jumps over
/// every token below it. A mask is then one forward scan over arrays (node 0 is the root).
/// </summary>
public sealed class GrammarVocabulary
{
    internal readonly byte[] Bytes;     // [nodes] the byte on the edge into node i
    internal readonly int[] Depth;      // [nodes] bytes from the root to node i
    internal readonly int[] Skip;       // [nodes] the node after node i's subtree
    internal readonly int[] EndStart;   // [nodes + 1] tokens whose bytes end at node i: EndIds[EndStart[i]..EndStart[i + 1]]
    internal readonly int[] EndIds;
    internal readonly int MaxDepth;

    public int VocabSize { get; }

    /// <param name="tokenBytes">The bytes of token id (empty for special and control tokens: never allowed by a grammar).</param>
    public GrammarVocabulary(int vocabSize, Func<int, byte[]> tokenBytes)
    {
        VocabSize = vocabSize;
        // First as a linked trie, then flattened in preorder.
        var children = new List<List<(byte Byte, int Node)>> { new() };
        var ends = new List<List<int>> { new() };
        for (int id = 0; id < vocabSize; id++)
        {
            byte[] b = tokenBytes(id);
            if (b.Length == 0) continue;
            int node = 0;
            foreach (byte x in b)
            {
                int next = -1;
                foreach (var (edge, child) in children[node]) if (edge == x) { next = child; break; }
                if (next < 0)
                {
                    next = children.Count;
                    children.Add(new());
                    ends.Add(new());
                    children[node].Add((x, next));
                }
                node = next;
            }
            ends[node].Add(id);
        }

        int count = children.Count;
        (Bytes, Depth, Skip, EndStart) = (new byte[count], new int[count], new int[count], new int[count + 1]);
        var endIds = new List<int>();
        int at = 0;
        var work = new Stack<(int Node, byte Byte, int Depth, bool Leaving, int Index)>();
        work.Push((0, 0, 0, false, 0));
        while (work.Count > 0)
        {
            var (node, b, depth, leaving, index) = work.Pop();
            if (leaving) { Skip[index] = at; continue; }
            (Bytes[at], Depth[at]) = (b, depth);
            EndStart[at] = endIds.Count;
            endIds.AddRange(ends[node]);
            MaxDepth = Math.Max(MaxDepth, depth);
            work.Push((node, b, depth, true, at));
            at++;
            for (int c = children[node].Count - 1; c >= 0; c--) work.Push((children[node][c].Node, children[node][c].Byte, depth + 1, false, 0));
        }
        EndStart[count] = endIds.Count;
        EndIds = [.. endIds];
    }
}
