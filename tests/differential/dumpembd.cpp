// dumpembd MODEL.gguf "id id id ..." POOLING OUT.bin : an encoder's output from llama.cpp for one sequence in one
// batch (llama_decode with embeddings on; llama_encode is for T5 in c392e50), written as int32 rows, int32 cols, float32[rows][cols] (the shared/golden format).
// POOLING: none (every token's hidden state, rows = tokens), mean | cls | last (one row of n_embd), rank (one row of
// one score: the classification head on the CLS row). The model file's pooling_type is overridden. Built like
// ../shared/tools/dumplogits.cpp, against llama.cpp c392e50:
//   L=path/to/llama.cpp   (cmake -B build -DGGML_NATIVE=ON -DLLAMA_CURL=OFF && cmake --build build -j2)
//   g++ -O2 -std=c++17 dumpembd.cpp -I$L/include -I$L/ggml/include -L$L/build/bin -lllama -lggml -lggml-base \
//       -Wl,-rpath,$L/build/bin -o dumpembd
#include "llama.h"
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char ** argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s MODEL \"ids\" none|mean|cls|last|rank OUT\n", argv[0]); return 2; }
    std::vector<llama_token> ids; { std::istringstream in(argv[2]); long v; while (in >> v) ids.push_back((llama_token) v); }
    const std::string pooling = argv[3];
    enum llama_pooling_type pt;
    if (pooling == "none") pt = LLAMA_POOLING_TYPE_NONE;
    else if (pooling == "mean") pt = LLAMA_POOLING_TYPE_MEAN;
    else if (pooling == "cls") pt = LLAMA_POOLING_TYPE_CLS;
    else if (pooling == "last") pt = LLAMA_POOLING_TYPE_LAST;
    else if (pooling == "rank") pt = LLAMA_POOLING_TYPE_RANK;
    else { fprintf(stderr, "unknown pooling '%s'\n", argv[3]); return 2; }
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "load failed\n"); return 1; }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512; cp.n_batch = 512; cp.n_ubatch = 512; cp.n_threads = 2; cp.n_threads_batch = 2;
    cp.embeddings = true; cp.pooling_type = pt;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "context failed\n"); return 1; }
    llama_batch b = llama_batch_init((int) ids.size(), 0, 1);
    for (size_t i = 0; i < ids.size(); i++) {
        b.token[i] = ids[i]; b.pos[i] = (llama_pos) i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = 1;
    }
    b.n_tokens = (int) ids.size();
    if (llama_decode(ctx, b) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
    const int n_embd = llama_model_n_embd(model);
    FILE * f = fopen(argv[4], "wb");
    if (pt == LLAMA_POOLING_TYPE_NONE) {
        int rows = (int) ids.size(); fwrite(&rows, 4, 1, f); fwrite(&n_embd, 4, 1, f);
        for (int i = 0; i < rows; i++) fwrite(llama_get_embeddings_ith(ctx, i), 4, n_embd, f);
    } else {
        int rows = 1, cols = pt == LLAMA_POOLING_TYPE_RANK ? 1 : n_embd;
        fwrite(&rows, 4, 1, f); fwrite(&cols, 4, 1, f);
        fwrite(llama_get_embeddings_seq(ctx, 0), 4, cols, f);
    }
    fclose(f);
    llama_batch_free(b); llama_free(ctx); llama_model_free(model); llama_backend_free();
    return 0;
}
