/* emulate_prelude.h — the CUDA device API on the CPU, for the emulated GPU (HEPNC_GPU_EMULATE=1, gpu/emulate.c).
 *
 * gpu/emulate.c compiles a generated NAME.cu with the host C++ compiler, this prelude first, into a shared
 * object; its kernels then run on the CPU with CUDA's semantics, so that a machine without a GPU checks the
 * kernels' numbers (every GPU parity test runs twice: on the GPU where one exists, emulated everywhere).
 *
 * Execution model: blocks run one after another; the threads of a block are fibers on one OS thread (made
 * once with ucontext, switched with _setjmp/_longjmp: no system call per switch). A block's warps run one
 * at a time, each as far as it can (alternating the warp order from block to block, and the lane order
 * from pair of blocks to pair, to expose a missing __syncthreads or __syncwarp); a lane runs until it ends
 * or waits at a barrier:
 *   __syncthreads()           every thread of the block that has not returned waits, then all go on;
 *   __shfl_*_sync()           the live lanes of the warp exchange values through a slot per lane.
 * A barrier that can never be passed (threads of one block waiting at different barriers, a shuffle
 * reading a lane that has returned) stops the launch with an error naming the kernel, where hardware
 * would hang or read garbage. __shared__ variables are static (one block at a time); atomics are plain
 * read-modify-writes (fibers switch only at barriers). Math is the host's libm: rsqrtf and erfcf round
 * differently from the GPU's, within the parity tolerances. */
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <csetjmp>
#include <ucontext.h>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) int4 { int x, y, z, w; };
static inline float4 make_float4(float x, float y, float z, float w) { return float4{ x, y, z, w }; }
static inline float2 make_float2(float x, float y) { return float2{ x, y }; }

static uint3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;
static const int warpSize = 32;

static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
static inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
/* __expf and __logf come with glibc's math.h; the round-to-nearest intrinsics are the plain operations */
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __fdividef(float a, float b) { return a / b; }
static inline float __saturatef(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
template <class T> static inline T __ldg(const T *p) { return *p; }
static inline float atomicAdd(float *p, float v) { float o = *p; *p = o + v; return o; }
static inline int atomicAdd(int *p, int v) { int o = *p; *p = o + v; return o; }
static inline unsigned atomicAdd(unsigned *p, unsigned v) { unsigned o = *p; *p = o + v; return o; }
static inline int atomicMax(int *p, int v) { int o = *p; if (v > o) *p = v; return o; }
static inline int atomicMin(int *p, int v) { int o = *p; if (v < o) *p = v; return o; }
static inline int atomicExch(int *p, int v) { int o = *p; *p = v; return o; }

/* ---- the scheduler -------------------------------------------------------------------------------- */

enum { HN_EMU_RUN, HN_EMU_AT_BLOCK, HN_EMU_AT_WARP, HN_EMU_DONE };

/* A fiber: made once (ucontext), then switched to and from with _setjmp/_longjmp (no system call per
 * switch); it runs one thread of a block after another, parked at the end of each. */
struct hn_emu_fiber {
    ucontext_t uc;                  /* its creation only */
    jmp_buf env;
    char *stack;
    int state;
    unsigned tid;
};

static struct hn_emu_sched {
    ucontext_t creator;
    jmp_buf main;
    hn_emu_fiber **fibers;          /* stable addresses: a parked fiber's frame holds its own pointer */
    int nfibers;
    int current;
    void (*shim)(void **);
    void **args;
    float slot[1024];               /* shuffle exchange, one per thread of the block */
    unsigned char deposited[1024];
    char error[256];
} hn_emu;

static char *hn_emu_dynamic_shared;  /* extern __shared__ arrays (rewritten by gpu/emulate.c) */
static size_t hn_emu_dynamic_size;

static void hn_emu_wait(int state)
{
    hn_emu_fiber *f = hn_emu.fibers[hn_emu.current];
    f->state = state;
    if (!_setjmp(f->env)) _longjmp(hn_emu.main, 1);
}

static inline void __syncthreads(void) { hn_emu_wait(HN_EMU_AT_BLOCK); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { (void)mask; hn_emu_wait(HN_EMU_AT_WARP); }

/* Lane `from` of this thread's warp (lanes counted within the width-lane segment) after every live lane
 * deposited its value; a lane that returned or lies outside the block is an error. */
static float hn_emu_exchange(float v, int from, int width)
{
    unsigned t = threadIdx.x, base = t - t % 32u, seg = (t % 32u) - (t % 32u) % (unsigned)width;
    hn_emu.slot[t] = v;
    hn_emu.deposited[t] = 1;
    hn_emu_wait(HN_EMU_AT_WARP);
    unsigned src = base + seg + (unsigned)from;
    float r = v;
    if (from >= 0 && from < width && src < blockDim.x) {
        if (!hn_emu.deposited[src] && !hn_emu.error[0])
            std::snprintf(hn_emu.error, sizeof hn_emu.error, "thread %u shuffles with lane %u, which has returned", t, src);
        r = hn_emu.slot[src];
    }
    hn_emu_wait(HN_EMU_AT_WARP);    /* every lane read before any writes its next value */
    hn_emu.deposited[t] = 0;
    return r;
}

template <class T> static T hn_emu_shfl(T v, int from, int width)
{
    static_assert(sizeof(T) == 4, "32-bit shuffles only");
    float f, r;
    std::memcpy(&f, &v, 4);
    r = hn_emu_exchange(f, from, width);
    T out;
    std::memcpy(&out, &r, 4);
    return out;
}
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int m, int w = 32) { return hn_emu_shfl(v, (int)(threadIdx.x % (unsigned)w) ^ m, w); }
template <class T> static inline T __shfl_down_sync(unsigned, T v, unsigned d, int w = 32)
{
    int lane = (int)(threadIdx.x % (unsigned)w), from = lane + (int)d;
    return hn_emu_shfl(v, from < w ? from : lane, w);
}
template <class T> static inline T __shfl_up_sync(unsigned, T v, unsigned d, int w = 32)
{
    int lane = (int)(threadIdx.x % (unsigned)w), from = lane - (int)d;
    return hn_emu_shfl(v, from >= 0 ? from : lane, w);
}
template <class T> static inline T __shfl_sync(unsigned, T v, int src, int w = 32) { return hn_emu_shfl(v, src % w, w); }

/* A fiber's life: parked at once (back to its creator), then a thread each time it is resumed. */
static void hn_emu_fiber_main(void)
{
    hn_emu_fiber *f = hn_emu.fibers[hn_emu.current];
    if (!_setjmp(f->env)) setcontext(&hn_emu.creator);
    for (;;) {
        hn_emu.shim(hn_emu.args);
        f->state = HN_EMU_DONE;
        if (!_setjmp(f->env)) _longjmp(hn_emu.main, 1);
    }
}

#define HN_EMU_STACK (256u << 10)

static int hn_emu_fibers(int n)
{
    if (n <= hn_emu.nfibers) return 0;
    hn_emu_fiber **f = (hn_emu_fiber **)std::realloc(hn_emu.fibers, sizeof *f * (size_t)n);
    if (!f) return -1;
    hn_emu.fibers = f;
    for (int i = hn_emu.nfibers; i < n; ++i) {
        if (!(f[i] = (hn_emu_fiber *)std::calloc(1, sizeof **f)) || !(f[i]->stack = (char *)std::malloc(HN_EMU_STACK))) return -1;
        getcontext(&f[i]->uc);
        f[i]->uc.uc_stack.ss_sp = f[i]->stack;
        f[i]->uc.uc_stack.ss_size = HN_EMU_STACK;
        f[i]->uc.uc_link = NULL;
        makecontext(&f[i]->uc, hn_emu_fiber_main, 0);
        hn_emu.current = i;
        swapcontext(&hn_emu.creator, &f[i]->uc);     /* it parks itself and comes back */
        hn_emu.nfibers = i + 1;
    }
    return 0;
}

/* Runs warp w's lanes until each has returned or waits at __syncthreads (a warp barrier that all its live
 * lanes reach is passed at once); 0, or -1 when its lanes wait at different barriers. Each lane runs as far
 * as it can before the next starts, lane 31 first when `reversed`: a lane that reads what another lane of its
 * warp wrote without __syncwarp between them (a race since Volta's independent thread scheduling) reads the
 * other's earlier value in one of the two orders, and the numbers show it. */
static int hn_emu_warp(int w, int n, int reversed)
{
    int end = w + 32 < n ? w + 32 : n;
    for (;;) {
        for (int k = w; k < end; ++k) {
            int t = reversed ? end - 1 - (k - w) : k;
            hn_emu_fiber *f = hn_emu.fibers[t];
            if (f->state != HN_EMU_RUN) continue;
            hn_emu.current = t;
            threadIdx = uint3{ f->tid, 0, 0 };
            if (!_setjmp(hn_emu.main)) _longjmp(f->env, 1);
        }
        if (hn_emu.error[0]) return -1;
        int live = 0, at_warp = 0;
        for (int t = w; t < end; ++t) {
            live += hn_emu.fibers[t]->state != HN_EMU_DONE;
            at_warp += hn_emu.fibers[t]->state == HN_EMU_AT_WARP;
        }
        if (!at_warp) return 0;
        if (at_warp < live) return -1;
        for (int t = w; t < end; ++t) hn_emu.fibers[t]->state = HN_EMU_RUN;
    }
}

/* One block: every thread from its start. Each warp in turn runs as far as it can before the next starts
 * (forward order in even blocks, backward in odd ones), so that a missing __syncthreads lets one warp
 * overwrite or read shared data that another has not read or written yet, and the numbers show it; the
 * lanes of a warp run backward in every other pair of blocks (blocks 2, 3, 6, 7, ...), for a missing
 * __syncwarp. */
static int hn_emu_block(void)
{
    int n = (int)blockDim.x, nw = (n + 31) / 32, order = (int)(blockIdx.x + blockIdx.y), backward = order & 1;
    int lanes_backward = (order >> 1) & 1;
    for (int t = 0; t < n; ++t) {       /* every fiber is parked: resuming it starts thread t */
        hn_emu_fiber *f = hn_emu.fibers[t];
        f->state = HN_EMU_RUN;
        f->tid = (unsigned)t;
        hn_emu.deposited[t] = 0;
    }
    for (;;) {
        int stuck = 0;
        for (int k = 0; k < nw; ++k)
            if (hn_emu_warp(32 * (backward ? nw - 1 - k : k), n, lanes_backward)) stuck = 1;
        if (hn_emu.error[0]) return -1;
        int live = 0, at_block = 0;
        for (int t = 0; t < n; ++t) {
            live += hn_emu.fibers[t]->state != HN_EMU_DONE;
            at_block += hn_emu.fibers[t]->state == HN_EMU_AT_BLOCK;
        }
        if (!live) return 0;
        if (stuck || at_block < live) {
            std::snprintf(hn_emu.error, sizeof hn_emu.error,
                          "block (%u,%u): of %d live threads, %d wait at __syncthreads and the others at a warp barrier",
                          blockIdx.x, blockIdx.y, live, at_block);
            return -1;
        }
        for (int t = 0; t < n; ++t)
            if (hn_emu.fibers[t]->state == HN_EMU_AT_BLOCK) hn_emu.fibers[t]->state = HN_EMU_RUN;
    }
}

/* After a failed block its fibers stand inside their threads: they are dropped, and made afresh next time. */
static void hn_emu_discard_fibers(void)
{
    for (int i = 0; i < hn_emu.nfibers; ++i) {
        std::free(hn_emu.fibers[i]->stack);
        std::free(hn_emu.fibers[i]);
    }
    hn_emu.nfibers = 0;
}

/* Runs `shim` (a kernel with its arguments unpacked from args) over the grid gx × gy of blocks of bx threads. */
static int hn_emu_run(void (*shim)(void **), void **args, unsigned gx, unsigned gy, unsigned bx, unsigned shared,
                      char *err, size_t errlen)
{
    if (bx == 0 || bx > 1024) { std::snprintf(err, errlen, "block of %u threads (1..1024)", bx); return -1; }
    if (hn_emu_fibers((int)bx)) { std::snprintf(err, errlen, "out of memory for %u fibers", bx); return -1; }
    if (shared > hn_emu_dynamic_size) {
        char *p = (char *)std::realloc(hn_emu_dynamic_shared, shared);
        if (!p) { std::snprintf(err, errlen, "out of memory for %u bytes of shared memory", shared); return -1; }
        hn_emu_dynamic_shared = p;
        hn_emu_dynamic_size = shared;
    }
    hn_emu.shim = shim;
    hn_emu.args = args;
    hn_emu.error[0] = '\0';
    gridDim = dim3{ gx, gy, 1 };
    blockDim = dim3{ bx, 1, 1 };
    for (unsigned y = 0; y < gy; ++y)
        for (unsigned x = 0; x < gx; ++x) {
            blockIdx = uint3{ x, y, 0 };
            if (hn_emu_block()) {
                std::snprintf(err, errlen, "%s", hn_emu.error);
                hn_emu_discard_fibers();
                return -1;
            }
        }
    return 0;
}

/* A kernel's arguments, unpacked from the launch's void *args[] by the kernel's own parameter types. */
template <class... A, std::size_t... I>
static void hn_emu_unpack(void (*k)(A...), void **a, std::index_sequence<I...>)
{
    k(*static_cast<typename std::remove_reference<A>::type *>(a[I])...);
}
template <class... A> static void hn_emu_call(void (*k)(A...), void **a)
{
    hn_emu_unpack(k, a, std::index_sequence_for<A...>{});
}
