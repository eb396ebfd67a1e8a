/* gpu.c — see hepnc/gpu.h. The handful of driver functions used are looked up in libcuda.so.1 at run
 * time; NVRTC is linked. With HEPNC_GPU_EMULATE=1 every call goes to the emulated GPU (gpu/emulate.c):
 * kernels on the CPU, host memory as device memory. */
#include "hepnc/gpu.h"

#include "emulate.h"

#include <dlfcn.h>
#include <errno.h>
#include <nvrtc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream;
typedef unsigned long long CUdeviceptr;

static struct driver {
    int loaded;
    CUresult (*cuInit)(unsigned);
    CUresult (*cuDeviceGetCount)(int *);
    CUresult (*cuDeviceGet)(CUdevice *, int);
    CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
    CUresult (*cuCtxSetCurrent)(CUcontext);
    CUresult (*cuCtxSynchronize)(void);
    CUresult (*cuModuleLoadData)(CUmodule *, const void *);
    CUresult (*cuModuleUnload)(CUmodule);
    CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
    CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                               CUstream, void **, void **);
    CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
    CUresult (*cuMemFree)(CUdeviceptr);
    CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
    CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
    CUresult (*cuGetErrorString)(CUresult, const char **);
    CUresult (*cuDeviceGetName)(char *, int, CUdevice);
} drv;

/* Device memory handed out by hn_gpu_alloc: sizes by pointer, for hn_gpu_allocated_bytes. */
#define HN_GPU_MAX_ALLOCS 4096
static struct { CUdeviceptr ptr; size_t bytes; } allocs[HN_GPU_MAX_ALLOCS];
static size_t alloc_now, alloc_peak;

/* cuBLAS, looked up at run time as the driver is (libcublas.so.13, .12): the GEMMs of linear layers.
 * Absent, generated code falls back to its own linear kernel. */
typedef void *cublasHandle_t;
static struct blas {
    int loaded;
    int (*create)(cublasHandle_t *);
    int (*destroy)(cublasHandle_t);
    int (*sgemm)(cublasHandle_t, int, int, int, int, int, const float *, const float *, int, const float *, int,
                 const float *, float *, int);
    int (*set_math_mode)(cublasHandle_t, int);
    int (*sgemm_strided)(cublasHandle_t, int, int, int, int, int, const float *, const float *, int, long long,
                         const float *, int, long long, const float *, float *, int, long long, int);
    /* cublasGemmEx and its strided-batched form, for HEPNC_GPU_BF16=1 (NULL where the library lacks them) */
    int (*gemm_ex)(cublasHandle_t, int, int, int, int, int, const void *, const void *, int, int, const void *, int, int,
                   const void *, void *, int, int, int, int);
    int (*gemm_strided_ex)(cublasHandle_t, int, int, int, int, int, const void *, const void *, int, int, long long,
                           const void *, int, int, long long, const void *, void *, int, int, long long, int, int, int);
} blas;

/* cudaDataType CUDA_R_32F, cublasComputeType_t CUBLAS_COMPUTE_32F_FAST_16BF, cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT */
enum { R_32F = 0, COMPUTE_32F_FAST_16BF = 75, GEMM_DEFAULT = -1 };

/* Per-kernel wall time (HEPNC_GPU_PROFILE=1): every launch synchronised before and after. */
#define HN_GPU_PROFILE_MAX 512
typedef struct profile_row { char name[96]; double seconds; long calls; } profile_row;

#define HN_GPU_FN_CACHE 512

struct hn_gpu {
    CUdevice dev;
    CUcontext ctx;
    CUmodule module;
    int arch;                   /* compute capability × 10 */
    int from_image;             /* the module came from the ahead-of-time image */
    cublasHandle_t blas;        /* NULL: no cuBLAS */
    int profile;
    profile_row *rows;
    int nrows;
    struct { const char *name; CUfunction fn; } fns[HN_GPU_FN_CACHE];   /* kernel handles by name */
    int nfns;
    hn_emu *emu;                /* the emulated GPU, when HEPNC_GPU_EMULATE=1 */
    int bf16;                   /* HEPNC_GPU_BF16=1: GEMM inputs rounded to bfloat16 on the tensor cores, float32 sums */
    int tf32;                   /* HEPNC_GPU_TF32=1: cuBLAS's TF32 tensor-op math */
};

static int bf16_requested(void)
{
    const char *v = getenv("HEPNC_GPU_BF16");
    return v && *v == '1';
}

static int tf32_requested(void)
{
    const char *v = getenv("HEPNC_GPU_TF32");
    return v && *v == '1';
}

/* The emulated GEMMs' arithmetic: bf16 where both modes are asked for, as on a GPU (cublasGemmEx's compute
 * type decides there, not the handle's math mode). */
static enum hn_emu_math emu_math(const hn_gpu *g)
{
    return g->bf16 ? HN_EMU_BF16 : g->tf32 ? HN_EMU_TF32 : HN_EMU_FP32;
}

static void load_blas(void);

static int load_driver(void)
{
    if (drv.loaded) return drv.loaded > 0 ? 0 : -1;
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    drv.loaded = -1;
    if (!h) return -1;
#define SYM(field, name) if (!(*(void **)&drv.field = dlsym(h, name))) return -1;
    SYM(cuInit, "cuInit") SYM(cuDeviceGetCount, "cuDeviceGetCount") SYM(cuDeviceGet, "cuDeviceGet")
    SYM(cuDeviceGetAttribute, "cuDeviceGetAttribute") SYM(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
    SYM(cuCtxSetCurrent, "cuCtxSetCurrent") SYM(cuCtxSynchronize, "cuCtxSynchronize")
    SYM(cuModuleLoadData, "cuModuleLoadData") SYM(cuModuleUnload, "cuModuleUnload")
    SYM(cuModuleGetFunction, "cuModuleGetFunction") SYM(cuLaunchKernel, "cuLaunchKernel")
    SYM(cuMemAlloc, "cuMemAlloc_v2") SYM(cuMemFree, "cuMemFree_v2") SYM(cuMemcpyHtoD, "cuMemcpyHtoD_v2")
    SYM(cuMemcpyDtoH, "cuMemcpyDtoH_v2") SYM(cuGetErrorString, "cuGetErrorString")
    SYM(cuDeviceGetName, "cuDeviceGetName")
#undef SYM
    if (drv.cuInit(0) != 0) return -1;
    drv.loaded = 1;
    return 0;
}

static int cu_fail(CUresult r, const char *what, char *err, size_t errlen)
{
    const char *s = "unknown error";
    if (drv.cuGetErrorString) drv.cuGetErrorString(r, &s);
    snprintf(err, errlen, "CUDA: %s: %s (%d)", what, s, r);
    return -1;
}

int hn_gpu_available(void)
{
    int n = 0;
    if (hn_emu_requested()) return 1;
    return load_driver() == 0 && drv.cuDeviceGetCount(&n) == 0 && n > 0;
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; ++s) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
    return h;
}

/* The cubin for `arch`, from the cache or compiled by NVRTC (then stored, atomically). */
static char *cubin_for(const char *source, const char *name, int arch, const char *cache_dir, size_t *size, char *err,
                       size_t errlen)
{
    char dir[1024], path[1200];
    const char *env = getenv("HEPNC_CACHE"), *home = getenv("HOME");
    if (cache_dir) snprintf(dir, sizeof dir, "%s", cache_dir);
    else if (env && *env) snprintf(dir, sizeof dir, "%s/cuda", env);
    else snprintf(dir, sizeof dir, "%s/.cache/hepnc/cuda", home ? home : "/tmp");
    char archs[16];
    snprintf(archs, sizeof archs, "sm_%d", arch);
    snprintf(path, sizeof path, "%s/%s-%016llx-%s.cubin", dir, name,
             (unsigned long long)fnv1a(archs, fnv1a(source, 1469598103934665603ull)), archs);
    FILE *f = fopen(path, "rb");
    if (f) {                                            /* cached */
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        rewind(f);
        char *b = malloc((size_t)n);
        if (b && fread(b, 1, (size_t)n, f) == (size_t)n) { fclose(f); *size = (size_t)n; return b; }
        free(b);
        fclose(f);
    }
    nvrtcProgram prog;
    nvrtcCreateProgram(&prog, source, name, 0, NULL, NULL);
    char opt[64];
    snprintf(opt, sizeof opt, "--gpu-architecture=sm_%d", arch);
    const char *opts[] = { opt, "--std=c++17", "-default-device" };
    if (nvrtcCompileProgram(prog, 3, opts) != NVRTC_SUCCESS) {
        size_t n = 0;
        nvrtcGetProgramLogSize(prog, &n);
        char *log = malloc(n + 1);
        nvrtcGetProgramLog(prog, log);
        snprintf(err, errlen, "NVRTC could not compile %s for %s:\n%s", name, archs, log);
        free(log);
        nvrtcDestroyProgram(&prog);
        return NULL;
    }
    nvrtcGetCUBINSize(prog, size);
    char *b = malloc(*size);
    nvrtcGetCUBIN(prog, b);
    nvrtcDestroyProgram(&prog);
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) == 0 && (f = fopen(tmp, "wb"))) {     /* best effort: a failed store only costs time */
        int ok = fwrite(b, 1, *size, f) == *size;
        if (fclose(f) == 0 && ok) rename(tmp, path);
        else unlink(tmp);
    }
    return b;
}

static void profile_setup(hn_gpu *g)
{
    const char *prof = getenv("HEPNC_GPU_PROFILE");
    if (prof && *prof && *prof != '0' && (g->rows = calloc(HN_GPU_PROFILE_MAX, sizeof *g->rows))) g->profile = 1;
}

/* The emulated GPU: the source for the host compiler (an ahead-of-time image is never used). */
static hn_gpu *open_emulated(const char *source, const char *name, const char *cache_dir, char *err, size_t errlen)
{
    hn_gpu *g = calloc(1, sizeof *g);
    if (!g) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (!(g->emu = hn_emu_open(source, name, cache_dir, err, errlen))) { free(g); return NULL; }
    if (!getenv("HEPNC_GPU_NO_CUBLAS")) g->blas = g;      /* the GEMMs as loops stand in for cuBLAS */
    if (g->blas) {       /* the math modes are cuBLAS's: without it every GEMM is a float32 kernel */
        g->bf16 = bf16_requested();
        g->tf32 = tf32_requested();
    }
    profile_setup(g);
    return g;
}

hn_gpu *hn_gpu_open(const char *source, const char *name, const char *cache_dir, char *err, size_t errlen)
{
    return hn_gpu_open_image(source, NULL, 0, name, cache_dir, err, errlen);
}

hn_gpu *hn_gpu_open_image(const char *source, const void *image, size_t image_size, const char *name,
                          const char *cache_dir, char *err, size_t errlen)
{
    if (hn_emu_requested()) return open_emulated(source, name, cache_dir, err, errlen);
    if (load_driver()) {
        snprintf(err, errlen, "CUDA: no driver (libcuda.so.1) on this machine "
                              "(HEPNC_GPU_EMULATE=1 runs the kernels on an emulated GPU, for checking)");
        return NULL;
    }
    hn_gpu *g = calloc(1, sizeof *g);
    CUresult r;
    int major = 0, minor = 0;
    if ((r = drv.cuDeviceGet(&g->dev, 0)) || (r = drv.cuDevicePrimaryCtxRetain(&g->ctx, g->dev)) ||
        (r = drv.cuCtxSetCurrent(g->ctx)) || (r = drv.cuDeviceGetAttribute(&major, 75, g->dev)) ||
        (r = drv.cuDeviceGetAttribute(&minor, 76, g->dev))) {
        cu_fail(r, "device 0", err, errlen);
        free(g);
        return NULL;
    }
    g->arch = 10 * major + minor;
    /* the ahead-of-time image where it has code for this GPU (else, e.g. CUDA_ERROR_NO_BINARY_FOR_GPU, NVRTC) */
    if (image && image_size && drv.cuModuleLoadData(&g->module, image) == 0) g->from_image = 1;
    else {
        size_t size = 0;
        char *cubin = cubin_for(source, name, g->arch, cache_dir, &size, err, errlen);
        if (!cubin) { free(g); return NULL; }
        r = drv.cuModuleLoadData(&g->module, cubin);
        free(cubin);
        if (r) { cu_fail(r, "loading the module", err, errlen); free(g); return NULL; }
    }
    load_blas();
    if (blas.loaded > 0 && blas.create(&g->blas) == 0) {
        /* CUBLAS_DEFAULT_MATH (0): float32 throughout, no TF32 unless HEPNC_GPU_TF32=1 (CUBLAS_TF32_TENSOR_OP_MATH, 3) */
        g->tf32 = tf32_requested();
        blas.set_math_mode(g->blas, g->tf32 ? 3 : 0);
        if (bf16_requested()) {
            if (!blas.gemm_ex || !blas.gemm_strided_ex) {
                snprintf(err, errlen, "HEPNC_GPU_BF16=1: this cuBLAS has no cublasGemmEx");
                blas.destroy(g->blas);
                free(g);
                return NULL;
            }
            g->bf16 = 1;
        }
    } else g->blas = NULL;
    profile_setup(g);
    return g;
}

void hn_gpu_close(hn_gpu *g)
{
    if (!g) return;
    hn_gpu_profile_report(g, stderr);
    if (g->emu) { hn_emu_close(g->emu); free(g->rows); free(g); return; }
    if (g->blas) blas.destroy(g->blas);
    if (g->module) drv.cuModuleUnload(g->module);
    free(g->rows);
    free(g);
}

/* Emulated device memory: the buffer (256-byte aligned, as cuMemAlloc's) ends where an inaccessible guard
 * page begins, so a kernel reading or writing past the end of an allocation (by more than its rounding to
 * 256 bytes) stops the test with SIGSEGV instead of touching the host's other memory; the mapping's base
 * and length sit in the 16 bytes before the buffer. A GPU's fresh allocation holds whatever was there
 * before, not zeros: every word of the buffer starts as HN_EMU_POISON (a quiet NaN as a float, 2143869869 as an
 * int32), so a kernel that reads memory nothing wrote makes the outputs NaN or an index run off, and the
 * parity checks fail (HEPNC_GPU_EMULATE_POISON=0: zeros instead). */
#define HN_EMU_POISON 0x7fc8dbadu

static void emu_poison(void *p, size_t bytes)
{
    const char *v = getenv("HEPNC_GPU_EMULATE_POISON");
    if (v && *v == '0') return;
    uint32_t *w = p;
    for (size_t i = 0; i < bytes / 4; ++i) w[i] = HN_EMU_POISON;
}

static void *emu_alloc(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), body = (bytes + 255) & ~(size_t)255;
    size_t len = ((body + 256 + page - 1) / page + 1) * page;
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    char *guard = base + len - page;
    if (mprotect(guard, page, PROT_NONE)) { munmap(base, len); return NULL; }
    char *p = guard - body;
    memcpy(p - 16, &base, sizeof base);
    memcpy(p - 8, &len, sizeof len);
    emu_poison(p, body);
    return p;
}

static void emu_free(void *p)
{
    char *base;
    size_t len;
    memcpy(&base, (char *)p - 16, sizeof base);
    memcpy(&len, (char *)p - 8, sizeof len);
    munmap(base, len);
}

/* The emulated device's memory in bytes (HEPNC_GPU_EMULATE_MEMORY, e.g. 24e9 for a 24 GB card), so that a
 * host's out-of-memory path can be checked; 0: the host's memory is the limit. */
static size_t emu_memory_limit(void)
{
    const char *v = getenv("HEPNC_GPU_EMULATE_MEMORY");
    double x = v && *v ? strtod(v, NULL) : 0.0;
    return x > 0 ? (size_t)x : 0;
}

int hn_gpu_alloc(hn_gpu *g, void **p, size_t bytes, char *err, size_t errlen)
{
    CUdeviceptr d = 0;
    CUresult r = 0;
    if (g && g->emu) {
        size_t limit = emu_memory_limit();
        void *h = limit && alloc_now + bytes > limit ? NULL : emu_alloc(bytes);
        d = (CUdeviceptr)(uintptr_t)h;
        if (!h) r = 2;
    } else r = drv.cuMemAlloc(&d, bytes ? bytes : 4);
    *p = (void *)(uintptr_t)d;
    if (r && g && g->emu) {
        snprintf(err, errlen, "emulated GPU: out of memory for %zu bytes (%zu held)", bytes, alloc_now);
        return -1;
    }
    if (r) {
        char what[64];
        snprintf(what, sizeof what, "cuMemAlloc of %zu bytes", bytes);
        return cu_fail(r, what, err, errlen);
    }
    for (int i = 0; i < HN_GPU_MAX_ALLOCS; ++i)
        if (!allocs[i].ptr) { allocs[i].ptr = d; allocs[i].bytes = bytes; break; }
    alloc_now += bytes;
    if (alloc_now > alloc_peak) alloc_peak = alloc_now;
    return 0;
}

void hn_gpu_free(hn_gpu *g, void *p)
{
    if (!p) return;
    CUdeviceptr d = (CUdeviceptr)(uintptr_t)p;
    for (int i = 0; i < HN_GPU_MAX_ALLOCS; ++i)
        if (allocs[i].ptr == d) { alloc_now -= allocs[i].bytes; allocs[i].ptr = 0; break; }
    if (g && g->emu) emu_free(p);
    else drv.cuMemFree(d);
}

size_t hn_gpu_allocated_bytes(size_t *peak)
{
    if (peak) *peak = alloc_peak;
    return alloc_now;
}

int hn_gpu_from_image(hn_gpu *g) { return g->from_image; }

int hn_gpu_describe(hn_gpu *g, char *name, size_t namelen, int *arch)
{
    if (arch) *arch = g->arch;
    if (g->emu) {
        if (name && namelen) snprintf(name, namelen, "emulated GPU (CPU, HEPNC_GPU_EMULATE)");
        return 0;
    }
    if (name && namelen) {
        name[0] = '\0';
        if (drv.cuDeviceGetName(name, (int)namelen, g->dev)) return -1;
    }
    return 0;
}

int hn_gpu_to_device(hn_gpu *g, void *d, const void *h, size_t bytes, char *err, size_t errlen)
{
    if (g->emu) { memcpy(d, h, bytes); return 0; }
    CUresult r = drv.cuMemcpyHtoD((CUdeviceptr)(uintptr_t)d, h, bytes);
    return r ? cu_fail(r, "copy to the device", err, errlen) : 0;
}

int hn_gpu_to_host(hn_gpu *g, void *h, const void *d, size_t bytes, char *err, size_t errlen)
{
    if (g->emu) { memcpy(h, d, bytes); return 0; }
    CUresult r = drv.cuMemcpyDtoH(h, (CUdeviceptr)(uintptr_t)d, bytes);
    return r ? cu_fail(r, "copy to the host", err, errlen) : 0;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Adds `seconds` to the profile row of `name`. */
static void profile_add(hn_gpu *g, const char *name, double seconds)
{
    int i = 0;
    while (i < g->nrows && strcmp(g->rows[i].name, name)) ++i;
    if (i == g->nrows) {
        if (g->nrows == HN_GPU_PROFILE_MAX) return;
        snprintf(g->rows[g->nrows++].name, sizeof g->rows[0].name, "%s", name);
    }
    g->rows[i].seconds += seconds;
    g->rows[i].calls++;
}

/* The kernel `name` of the module (looked up once; generated code passes string literals). */
static CUresult function(hn_gpu *g, const char *name, CUfunction *fn)
{
    for (int i = 0; i < g->nfns; ++i)
        if (g->fns[i].name == name || !strcmp(g->fns[i].name, name)) { *fn = g->fns[i].fn; return 0; }
    CUresult r = drv.cuModuleGetFunction(fn, g->module, name);
    if (!r && g->nfns < HN_GPU_FN_CACHE) {
        g->fns[g->nfns].name = name;
        g->fns[g->nfns++].fn = *fn;
    }
    return r;
}

int hn_gpu_launch(hn_gpu *g, const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared, void **args,
                  char *err, size_t errlen)
{
    if (g->emu) {
        if (!gx || !gy) return 0;
        double t0 = g->profile ? wall_seconds() : 0;
        int rc = hn_emu_launch(g->emu, name, gx, gy, bx, shared, args, err, errlen);
        if (g->profile && !rc) profile_add(g, name, wall_seconds() - t0);
        return rc;
    }
    CUfunction fn;
    CUresult r = function(g, name, &fn);
    if (r) return cu_fail(r, name, err, errlen);
    if (!gx || !gy) return 0;
    double t0 = 0;
    if (g->profile && !(r = drv.cuCtxSynchronize())) t0 = wall_seconds();
    if (!r) r = drv.cuLaunchKernel(fn, gx, gy, 1, bx, 1, 1, shared, NULL, args, NULL);
    if (g->profile && !r && !(r = drv.cuCtxSynchronize())) profile_add(g, name, wall_seconds() - t0);
    return r ? cu_fail(r, name, err, errlen) : 0;
}

static void load_blas(void)
{
    if (blas.loaded) return;
    blas.loaded = -1;
    if (getenv("HEPNC_GPU_NO_CUBLAS")) return;
    static const char *const names[] = { "libcublas.so.13", "libcublas.so.12", "libcublas.so" };
    void *h = NULL;
    for (size_t i = 0; !h && i < sizeof names / sizeof names[0]; ++i) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    if (!(*(void **)&blas.create = dlsym(h, "cublasCreate_v2")) || !(*(void **)&blas.destroy = dlsym(h, "cublasDestroy_v2")) ||
        !(*(void **)&blas.sgemm = dlsym(h, "cublasSgemm_v2")) || !(*(void **)&blas.set_math_mode = dlsym(h, "cublasSetMathMode")) ||
        !(*(void **)&blas.sgemm_strided = dlsym(h, "cublasSgemmStridedBatched")))
        return;
    *(void **)&blas.gemm_ex = dlsym(h, "cublasGemmEx");
    *(void **)&blas.gemm_strided_ex = dlsym(h, "cublasGemmStridedBatchedEx");
    blas.loaded = 1;
}

/* Column-major C = op(A)·op(B)·alpha + beta·C: cublasSgemm, or with HEPNC_GPU_BF16=1 cublasGemmEx on float32
 * matrices with CUBLAS_COMPUTE_32F_FAST_16BF (inputs rounded to bfloat16 on the tensor cores, float32 sums). */
static int sgemm(hn_gpu *g, int ta, int tb, int m, int n, int k, const float *alpha, const float *A, int lda, const float *B,
                 int ldb, const float *beta, float *C, int ldc)
{
    if (g->bf16)
        return blas.gemm_ex(g->blas, ta, tb, m, n, k, alpha, A, R_32F, lda, B, R_32F, ldb, beta, C, R_32F, ldc,
                            COMPUTE_32F_FAST_16BF, GEMM_DEFAULT);
    return blas.sgemm(g->blas, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

int hn_gpu_has_blas(hn_gpu *g) { return g->blas != NULL; }

const char *hn_gpu_math(hn_gpu *g)
{
    if (!g->blas) return "fp32";
    return g->bf16 ? "bf16" : g->tf32 ? "tf32" : "fp32";
}

int hn_gpu_linear_gemm(hn_gpu *g, const float *x, const float *W, float *y, long rows, int in, int out, char *err,
                       size_t errlen)
{
    if (!g->blas) { snprintf(err, errlen, "cuBLAS is not available"); return -1; }
    if (rows <= 0) return 0;
    if (g->emu) { hn_emu_gemm_nt(x, W, y, rows, in, out, emu_math(g)); return 0; }
    const float one = 1.0f, zero = 0.0f;
    double t0 = g->profile && !drv.cuCtxSynchronize() ? wall_seconds() : 0;
    /* row-major y[rows][out] = x[rows][in] · W[out][in]ᵀ, i.e. column-major yᵀ = Wᵀᵀ · xᵀ */
    int r = sgemm(g, 1 /* CUBLAS_OP_T */, 0 /* CUBLAS_OP_N */, out, (int)rows, in, &one, W, in, x, in, &zero, y, out);
    if (r) { snprintf(err, errlen, "cuBLAS: cublasSgemm (%ld x %d x %d) failed with status %d", rows, out, in, r); return -1; }
    if (g->profile) {
        CUresult c = drv.cuCtxSynchronize();
        if (c) return cu_fail(c, "cublasSgemm", err, errlen);
        char name[64];
        snprintf(name, sizeof name, "cublasSgemm %dx%d", out, in);
        profile_add(g, name, wall_seconds() - t0);
    }
    return 0;
}

int hn_gpu_gemm(hn_gpu *g, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc, char *err, size_t errlen)
{
    if (!g->blas) { snprintf(err, errlen, "cuBLAS is not available"); return -1; }
    if (M <= 0 || N <= 0) return 0;
    if (g->emu) { hn_emu_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, emu_math(g)); return 0; }
    double t0 = g->profile && !drv.cuCtxSynchronize() ? wall_seconds() : 0;
    /* row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: B's storage read as column-major is
     * op(B)ᵀ when B is not transposed */
    int r = sgemm(g, tb ? 1 : 0, ta ? 1 : 0, N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc);
    if (r) { snprintf(err, errlen, "cuBLAS: cublasSgemm (%d x %d x %d) failed with status %d", M, N, K, r); return -1; }
    if (g->profile) {
        CUresult c = drv.cuCtxSynchronize();
        if (c) return cu_fail(c, "cublasSgemm", err, errlen);
        char name[64];
        snprintf(name, sizeof name, "cublasSgemm %c%c %dx%dx%d", ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K);
        profile_add(g, name, wall_seconds() - t0);
    }
    return 0;
}

int hn_gpu_linear_gemm_rows(hn_gpu *g, const float *x, const float *W, float *y, int events, int rows, int used, int in,
                            int out, char *err, size_t errlen)
{
    /* one large GEMM over every row runs near the float32 peak; the strided-batched form of small per-event
     * GEMMs is slower per row, and pays off only when most rows are padding (measured on an H100) */
    if (2 * used > rows) return hn_gpu_linear_gemm(g, x, W, y, (long)events * rows, in, out, err, errlen);
    if (!g->blas) { snprintf(err, errlen, "cuBLAS is not available"); return -1; }
    if (used <= 0 || events <= 0) return 0;
    if (g->emu) {
        for (int e = 0; e < events; ++e)
            hn_emu_gemm_nt(x + (size_t)e * rows * in, W, y + (size_t)e * rows * out, used, in, out, emu_math(g));
        return 0;
    }
    const float one = 1.0f, zero = 0.0f;
    double t0 = g->profile && !drv.cuCtxSynchronize() ? wall_seconds() : 0;
    /* per event, its first `used` rows: yᵀ_e = Wᵀᵀ · xᵀ_e, events strided by whole [rows] blocks, W shared */
    int r = g->bf16 ? blas.gemm_strided_ex(g->blas, 1, 0, out, used, in, &one, W, R_32F, in, 0, x, R_32F, in, (long long)rows * in,
                                           &zero, y, R_32F, out, (long long)rows * out, events, COMPUTE_32F_FAST_16BF, GEMM_DEFAULT)
                    : blas.sgemm_strided(g->blas, 1, 0, out, used, in, &one, W, in, 0, x, in, (long long)rows * in, &zero, y, out,
                                         (long long)rows * out, events);
    if (r) {
        snprintf(err, errlen, "cuBLAS: cublasSgemmStridedBatched (%d x [%d x %d x %d]) failed with status %d", events, used,
                 out, in, r);
        return -1;
    }
    if (g->profile) {
        CUresult c = drv.cuCtxSynchronize();
        if (c) return cu_fail(c, "cublasSgemmStridedBatched", err, errlen);
        char name[64];
        snprintf(name, sizeof name, "cublasSgemm %dx%d (rows trimmed)", out, in);
        profile_add(g, name, wall_seconds() - t0);
    }
    return 0;
}

static int by_seconds(const void *a, const void *b)
{
    double x = ((const profile_row *)a)->seconds, y = ((const profile_row *)b)->seconds;
    return (x < y) - (x > y);
}

void hn_gpu_profile_report(hn_gpu *g, FILE *f)
{
    if (!g || !g->profile || !g->nrows) return;
    qsort(g->rows, (size_t)g->nrows, sizeof g->rows[0], by_seconds);
    double total = 0;
    for (int i = 0; i < g->nrows; ++i) total += g->rows[i].seconds;
    fprintf(f, "hepnc GPU profile (HEPNC_GPU_PROFILE): %.3f s in kernels, synchronised per launch\n", total);
    for (int i = 0; i < g->nrows; ++i)
        fprintf(f, "  %6.2f%%  %10.3f ms  %6ld calls  %s\n", 100 * g->rows[i].seconds / total, 1e3 * g->rows[i].seconds,
                g->rows[i].calls, g->rows[i].name);
    g->nrows = 0;
}

int hn_gpu_sync(hn_gpu *g, char *err, size_t errlen)
{
    if (g->emu) return 0;
    CUresult r = drv.cuCtxSynchronize();
    return r ? cu_fail(r, "synchronize", err, errlen) : 0;
}
