// host.cpp — a C++ host of a hepnc GPU object, as a trigger or reconstruction framework would hold one: the
// model loaded once, jets in the host's own arrays, NAME_cuda_infer_host copying each chunk to the device
// and the scores back. Built by examples/gpu_host/CMakeLists.txt with the GPU object of models/part_small.yaml.
//
//   gpu_host WEIGHTS [JETS]
//
// Makes JETS (default 300) random jets (0 to 24 particles), runs them through the GPU object and through the
// CPU object of the same spec, and prints the largest difference of the scores (exit 1 above 1e-5, 77
// without a GPU: HEPNC_GPU_EMULATE=1 runs it on the emulated GPU).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <hepnc/gpu.h>

#include "part_small.h"
#include "part_small_cuda.h"

int main(int argc, char **argv)
{
    if (argc < 2) { std::fprintf(stderr, "usage: %s WEIGHTS [JETS]\n", argv[0]); return 2; }
    if (!hn_gpu_available()) { std::printf("skipped: no GPU\n"); return 77; }
    const int jets = argc > 2 ? std::atoi(argv[2]) : 300;
    char err[4096] = "";

    // The host's jets: particle features, 4-vectors and counts, padded to the spec's maximum.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f), e(20.0f, 200.0f);
    std::vector<float> x((size_t)jets * PART_SMALL_MAX_PARTICLES * PART_SMALL_PARTICLES_FEATURES, 0.0f);
    std::vector<float> p4((size_t)jets * PART_SMALL_MAX_PARTICLES * 4, 0.0f);
    std::vector<int32_t> n(jets);
    for (int j = 0; j < jets; ++j) {
        n[j] = (int32_t)(rng() % (PART_SMALL_MAX_PARTICLES + 1));
        for (int i = 0; i < n[j]; ++i) {
            float *f = &x[((size_t)j * PART_SMALL_MAX_PARTICLES + i) * PART_SMALL_PARTICLES_FEATURES];
            for (int c = 0; c < PART_SMALL_PARTICLES_FEATURES; ++c) f[c] = u(rng);
            float *v = &p4[((size_t)j * PART_SMALL_MAX_PARTICLES + i) * 4];
            v[0] = 10 * u(rng), v[1] = 10 * u(rng), v[2] = 10 * u(rng), v[3] = e(rng);   // px, py, pz, E (E > |p|)
        }
    }
    part_small_inputs in = { x.data(), n.data(), p4.data() };

    // The GPU object: loaded once; its device workspace sized for the largest batch the host will pass.
    part_small_cuda_model gpu;
    void *workspace = nullptr;
    if (part_small_cuda_load(&gpu, argv[1], err, sizeof err) ||
        hn_gpu_alloc((hn_gpu *)gpu.gpu, &workspace, PART_SMALL_CUDA_HOST_WORKSPACE_BYTES(jets), err, sizeof err)) {
        std::printf("FAIL loading the GPU object: %s\n", err);
        return 1;
    }
    std::vector<float> logits((size_t)jets * PART_SMALL_LOGITS_WIDTH), scores((size_t)jets * PART_SMALL_SCORES_WIDTH);
    part_small_outputs out = { logits.data(), scores.data() };
    int rc = part_small_cuda_infer_host(&gpu, &in, jets, &out, workspace, err, sizeof err);
    if (rc) { std::printf("FAIL part_small_cuda_infer_host: rc %d: %s\n", rc, err); return 1; }

    // The CPU object of the same spec, for comparison.
    part_small_model cpu;
    if (part_small_load(&cpu, argv[1], err, sizeof err)) { std::printf("FAIL loading the CPU object: %s\n", err); return 1; }
    std::vector<float> ws(PART_SMALL_WORKSPACE_BYTES(jets) / sizeof(float) + 1);
    std::vector<float> cpu_logits(logits.size()), cpu_scores(scores.size());
    part_small_outputs cpu_out = { cpu_logits.data(), cpu_scores.data() };
    if (part_small_infer(&cpu, &in, jets, &cpu_out, ws.data())) { std::printf("FAIL part_small_infer\n"); return 1; }

    double worst = 0;
    for (size_t k = 0; k < scores.size(); ++k) worst = std::fmax(worst, std::fabs((double)scores[k] - cpu_scores[k]));
    std::printf("%s %d jets through part_small_cuda_infer_host: scores within %.3g of the CPU object's (tolerance 1e-5)\n",
                worst <= 1e-5 ? "ok  " : "FAIL", jets, worst);
    hn_gpu_free((hn_gpu *)gpu.gpu, workspace);
    part_small_cuda_release(&gpu);
    part_small_release(&cpu);
    return worst <= 1e-5 ? 0 : 1;
}
