/* test_emulate.c — the emulated GPU (gpu/emulate.c) keeps CUDA's semantics: block barriers and static
 * shared memory, dynamic shared memory, warp shuffles (xor, down, idx, sub-warp widths), __syncwarp, a 2-D
 * grid; a race between lanes of a warp (no __syncwarp) changes the numbers; and it refuses what hardware
 * would hang on or read garbage from (a shuffle with a lane that returned, threads
 * of one block waiting at different barriers), naming the kernel. Runs everywhere (no GPU needed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hepnc/gpu.h>

static const char source[] =
    "extern \"C\" __global__ void block_sum(const float *x, int n, float *out)\n"
    "{\n"
    "    __shared__ float part[256];\n"
    "    int t = threadIdx.x;\n"
    "    float s = 0.0f;\n"
    "    for (int i = blockIdx.x * blockDim.x + t; i < n; i += gridDim.x * blockDim.x) s += x[i];\n"
    "    part[t] = s;\n"
    "    __syncthreads();\n"
    "    for (int k = blockDim.x / 2; k; k >>= 1) {\n"
    "        if (t < k) part[t] += part[t + k];\n"
    "        __syncthreads();\n"
    "    }\n"
    "    if (t == 0) out[blockIdx.x] = part[0];\n"
    "}\n"
    "/* per warp: xor-sum, a down-sum into lane 0, lane 5's value broadcast, a 16-wide xor-sum */\n"
    "extern \"C\" __global__ void shuffles(const float *x, float *out)\n"
    "{\n"
    "    int t = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "    float v = x[t], a = v, d = v, w = v;\n"
    "    for (int k = 16; k; k >>= 1) a += __shfl_xor_sync(0xffffffffu, a, k);\n"
    "    for (int k = 16; k; k >>= 1) d += __shfl_down_sync(0xffffffffu, d, k);\n"
    "    float b = __shfl_sync(0xffffffffu, v, 5);\n"
    "    for (int k = 8; k; k >>= 1) w += __shfl_xor_sync(0xffffffffu, w, k, 16);\n"
    "    out[4 * t] = a; out[4 * t + 1] = d; out[4 * t + 2] = b; out[4 * t + 3] = w;\n"
    "}\n"
    "/* the block's values reversed through dynamic shared memory; y indexes the grid's rows */\n"
    "extern \"C\" __global__ void reverse(const float *x, float *y)\n"
    "{\n"
    "    extern __shared__ float buf[];\n"
    "    int t = threadIdx.x, base = (blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x;\n"
    "    buf[t] = x[base + t];\n"
    "    __syncthreads();\n"
    "    y[base + t] = buf[blockDim.x - 1 - t];\n"
    "}\n"
    "extern \"C\" __global__ void shuffle_after_return(float *y)\n"
    "{\n"
    "    float v = threadIdx.x;\n"
    "    if (threadIdx.x >= 16) return;\n"
    "    y[threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 16);\n"
    "}\n"
    "extern \"C\" __global__ void split_barriers(float *y)\n"
    "{\n"
    "    float v = threadIdx.x;\n"
    "    if (threadIdx.x < 16) __syncthreads();\n"
    "    else v = __shfl_xor_sync(0xffffffffu, v, 1);\n"
    "    y[threadIdx.x] = v;\n"
    "}\n"
    "/* each lane reads its left neighbour's value through shared memory: with __syncwarp between the write\n"
    " * and the read when `synced`, else a race that the emulated GPU shows in the blocks whose lanes run backward */\n"
    "extern \"C\" __global__ void shift_left_neighbour(int synced, float *y)\n"
    "{\n"
    "    __shared__ float buf[32];\n"
    "    int lane = threadIdx.x;\n"
    "    buf[lane] = (float)(blockIdx.x * 32 + lane);\n"
    "    if (synced) __syncwarp();\n"
    "    y[blockIdx.x * 32 + lane] = buf[lane ? lane - 1 : 0];\n"
    "}\n"
    "/* reads one float past the end of x (n floats; n a multiple of 64, so no rounding hides it) */\n"
    "extern \"C\" __global__ void read_past_end(const float *x, int n, float *y)\n"
    "{\n"
    "    y[0] = x[n];\n"
    "}\n";

static int failures;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

int main(void)
{
    char err[2048];
    setenv("HEPNC_GPU_EMULATE", "1", 1);
    if (!hn_gpu_available()) { printf("FAIL the emulated GPU is not available\n"); return 1; }
    hn_gpu *g = hn_gpu_open(source, "emulate_test", getenv("TEST_CACHE"), err, sizeof err);
    if (!g) { printf("FAIL open: %s\n", err); return 1; }

    enum { N = 1000, W = 64 };
    float x[N], *dx, *dout;
    double want = 0;
    for (int i = 0; i < N; ++i) { x[i] = (float)((i * 37) % 101) - 50.0f; want += x[i]; }
    float sums[4] = { 0 };
    int n = N;
    if (hn_gpu_alloc(g, (void **)&dx, sizeof x, err, sizeof err) || hn_gpu_alloc(g, (void **)&dout, 4 * sizeof(float) * N, err, sizeof err) ||
        hn_gpu_to_device(g, dx, x, sizeof x, err, sizeof err)) { printf("FAIL memory: %s\n", err); return 1; }
    void *a1[] = { &dx, &n, &dout };
    int rc = hn_gpu_launch(g, "block_sum", 4, 1, 256, 0, a1, err, sizeof err);
    rc = rc || hn_gpu_to_host(g, sums, dout, sizeof sums, err, sizeof err);
    check(!rc && fabs(sums[0] + sums[1] + sums[2] + sums[3] - want) < 1e-3, "block tree reduction through __shared__ and __syncthreads");

    float sh[4 * W];
    void *a2[] = { &dx, &dout };
    rc = hn_gpu_launch(g, "shuffles", 1, 1, W, 0, a2, err, sizeof err) || hn_gpu_to_host(g, sh, dout, sizeof sh, err, sizeof err);
    int ok = !rc;
    for (int t = 0; ok && t < W; ++t) {
        int warp = t / 32 * 32, half = t / 16 * 16;
        float all = 0, h16 = 0;
        for (int l = 0; l < 32; ++l) all += x[warp + l];
        for (int l = 0; l < 16; ++l) h16 += x[half + l];
        ok = sh[4 * t] == all && sh[4 * t + 2] == x[warp + 5] && sh[4 * t + 3] == h16 && (t % 32 || sh[4 * t + 1] == all);
    }
    check(ok, "__shfl_xor_sync, __shfl_down_sync, __shfl_sync and a 16-lane width");

    float rev[2 * 3 * 32];
    void *a3[] = { &dx, &dout };
    rc = hn_gpu_launch(g, "reverse", 2, 3, 32, 32 * sizeof(float), a3, err, sizeof err) ||
         hn_gpu_to_host(g, rev, dout, sizeof rev, err, sizeof err);
    ok = !rc;
    for (int i = 0; ok && i < 6 * 32; ++i) ok = rev[i] == x[i / 32 * 32 + 31 - i % 32];
    check(ok, "extern __shared__ (dynamic shared memory) over a 2-D grid");

    /* a missing __syncwarp: lanes run in both orders across blocks, so the race changes some block's numbers */
    for (int synced = 1; synced >= 0; --synced) {
        float shifted[4 * 32];
        void *a6[] = { &synced, &dout };
        rc = hn_gpu_launch(g, "shift_left_neighbour", 4, 1, 32, 0, a6, err, sizeof err) ||
             hn_gpu_to_host(g, shifted, dout, sizeof shifted, err, sizeof err);
        int right = !rc;
        for (int i = 0; right && i < 4 * 32; ++i) right = shifted[i] == (float)(i % 32 ? i - 1 : i);
        check(synced ? right : !rc && !right, synced ? "lanes exchanging values through __shared__ after __syncwarp"
                                                     : "a missing __syncwarp changes the numbers (lanes run in both orders)");
    }

    void *a4[] = { &dout };
    rc = hn_gpu_launch(g, "shuffle_after_return", 1, 1, 32, 0, a4, err, sizeof err);
    check(rc && strstr(err, "shuffle_after_return") && strstr(err, "returned"), "a shuffle with a lane that returned is refused");
    printf("     (%s)\n", err);
    rc = hn_gpu_launch(g, "split_barriers", 1, 1, 32, 0, a4, err, sizeof err);
    check(rc && strstr(err, "split_barriers") && strstr(err, "__syncthreads"), "threads waiting at different barriers are refused");
    printf("     (%s)\n", err);
    rc = hn_gpu_launch(g, "no_such_kernel", 1, 1, 32, 0, a4, err, sizeof err);
    check(rc && strstr(err, "no_such_kernel"), "an unknown kernel is named");

    /* a read past the end of an allocation stops the process (the guard page after every buffer); in a child */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        float *dz;
        int m = 64;
        if (hn_gpu_alloc(g, (void **)&dz, sizeof(float) * (size_t)m, err, sizeof err)) _exit(2);
        void *a5[] = { &dz, &m, &dout };
        hn_gpu_launch(g, "read_past_end", 1, 1, 1, 0, a5, err, sizeof err);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    check(WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS),
          "a read one float past the end of an allocation stops the kernel (guard page)");

    /* a fresh allocation holds no zeros (as on a GPU): every float of it is NaN until something writes it */
    float *dfresh, fresh[300];
    int all_nan = 0;
    if (!hn_gpu_alloc(g, (void **)&dfresh, sizeof fresh, err, sizeof err) &&
        !hn_gpu_to_host(g, fresh, dfresh, sizeof fresh, err, sizeof err)) {
        all_nan = 1;
        for (int i = 0; i < 300; ++i) all_nan &= isnan(fresh[i]) != 0;
        hn_gpu_free(g, dfresh);
    }
    check(all_nan, "a fresh allocation reads as NaN (HEPNC_GPU_EMULATE_POISON)");

    hn_gpu_free(g, dx);
    hn_gpu_free(g, dout);
    hn_gpu_close(g);
    printf("%d failed\n", failures);
    return failures != 0;
}
