/* gpu.c — see hepnc/gpu.h. The handful of driver functions used are looked up in libcuda.so.1 at run
 * time; NVRTC is linked. */
#include "hepnc/gpu.h"

#include <dlfcn.h>
#include <errno.h>
#include <nvrtc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
} drv;

struct hn_gpu {
    CUdevice dev;
    CUcontext ctx;
    CUmodule module;
    int arch;                   /* compute capability × 10 */
};

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

hn_gpu *hn_gpu_open(const char *source, const char *name, const char *cache_dir, char *err, size_t errlen)
{
    if (load_driver()) { snprintf(err, errlen, "CUDA: no driver (libcuda.so.1) on this machine"); return NULL; }
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
    size_t size = 0;
    char *cubin = cubin_for(source, name, g->arch, cache_dir, &size, err, errlen);
    if (!cubin) { free(g); return NULL; }
    r = drv.cuModuleLoadData(&g->module, cubin);
    free(cubin);
    if (r) { cu_fail(r, "loading the module", err, errlen); free(g); return NULL; }
    return g;
}

void hn_gpu_close(hn_gpu *g)
{
    if (!g) return;
    if (g->module) drv.cuModuleUnload(g->module);
    free(g);
}

int hn_gpu_alloc(hn_gpu *g, void **p, size_t bytes, char *err, size_t errlen)
{
    (void)g;
    CUdeviceptr d = 0;
    CUresult r = drv.cuMemAlloc(&d, bytes ? bytes : 4);
    *p = (void *)(uintptr_t)d;
    return r ? cu_fail(r, "cuMemAlloc", err, errlen) : 0;
}

void hn_gpu_free(hn_gpu *g, void *p)
{
    (void)g;
    if (p) drv.cuMemFree((CUdeviceptr)(uintptr_t)p);
}

int hn_gpu_to_device(hn_gpu *g, void *d, const void *h, size_t bytes, char *err, size_t errlen)
{
    (void)g;
    CUresult r = drv.cuMemcpyHtoD((CUdeviceptr)(uintptr_t)d, h, bytes);
    return r ? cu_fail(r, "copy to the device", err, errlen) : 0;
}

int hn_gpu_to_host(hn_gpu *g, void *h, const void *d, size_t bytes, char *err, size_t errlen)
{
    (void)g;
    CUresult r = drv.cuMemcpyDtoH(h, (CUdeviceptr)(uintptr_t)d, bytes);
    return r ? cu_fail(r, "copy to the host", err, errlen) : 0;
}

int hn_gpu_launch(hn_gpu *g, const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared, void **args,
                  char *err, size_t errlen)
{
    CUfunction fn;
    CUresult r = drv.cuModuleGetFunction(&fn, g->module, name);
    if (r) return cu_fail(r, name, err, errlen);
    if (!gx || !gy) return 0;
    r = drv.cuLaunchKernel(fn, gx, gy, 1, bx, 1, 1, shared, NULL, args, NULL);
    return r ? cu_fail(r, name, err, errlen) : 0;
}

int hn_gpu_sync(hn_gpu *g, char *err, size_t errlen)
{
    (void)g;
    CUresult r = drv.cuCtxSynchronize();
    return r ? cu_fail(r, "synchronize", err, errlen) : 0;
}
