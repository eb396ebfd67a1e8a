/* gpu.h — the CUDA runtime of generated models: the driver API loaded at run time (dlopen, so programs
 * also run where no NVIDIA driver is installed), NVRTC compilation of a model's kernels with an on-disk
 * cache keyed by the source's hash and the device architecture, device memory and kernel launches. */
#ifndef HEPNC_GPU_H
#define HEPNC_GPU_H

#include <stddef.h>

typedef struct hn_gpu hn_gpu;

/* 1 when a CUDA driver and at least one device are present. */
int hn_gpu_available(void);

/* Device 0, its primary context, and `source` compiled for its architecture (cached under cache_dir,
 * default $HEPNC_CACHE or ~/.cache/hepnc/cuda). NULL and a message on failure, with the NVRTC log
 * (compile errors name the generated line). */
hn_gpu *hn_gpu_open(const char *source, const char *name, const char *cache_dir, char *err, size_t errlen);
void hn_gpu_close(hn_gpu *g);

int hn_gpu_alloc(hn_gpu *g, void **device_ptr, size_t bytes, char *err, size_t errlen);
void hn_gpu_free(hn_gpu *g, void *device_ptr);
int hn_gpu_to_device(hn_gpu *g, void *device_ptr, const void *host, size_t bytes, char *err, size_t errlen);
int hn_gpu_to_host(hn_gpu *g, void *host, const void *device_ptr, size_t bytes, char *err, size_t errlen);
/* Launches kernel `name` (grid gx × gy, block bx threads, `shared` bytes of dynamic shared memory). */
int hn_gpu_launch(hn_gpu *g, const char *name, unsigned gx, unsigned gy, unsigned bx, unsigned shared, void **args,
                  char *err, size_t errlen);
int hn_gpu_sync(hn_gpu *g, char *err, size_t errlen);

#endif
