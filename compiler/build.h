/* build.h — builds generated code into a shared object with the system compiler, cached on disk by
 * the hash of the generated sources, and opens its generic entry point. */
#ifndef HN_BUILD_H
#define HN_BUILD_H

#include <hepnc/model.h>
#include <hepnc/train_entry.h>

#include "driver.h"

typedef struct hn_loaded_model {
    void *dl;
    const hn_model_entry *entry;
    char so_path[1024];
    int cached;                 /* 1 when the build came from the cache */
    const void *cuda_entry;     /* hn_build_and_open_gpu: the GPU object's hn_cuda_model_entry (hepnc/gpu.h) */
} hn_loaded_model;

int hn_build_and_open(const hn_model_build *mb, int use_cblas, hn_loaded_model *out);
/* The same with extra compiler flags (e.g. "-DHN_TRACE" for hepnc compare); they enter the cache key. */
int hn_build_and_open_with(const hn_model_build *mb, int use_cblas, const char *extra_cflags, hn_loaded_model *out);
void hn_loaded_model_close(hn_loaded_model *m);
/* The GPU object (what hepnc compile --target cuda writes: NAME_cuda*.c beside the C object's header, loader
 * and entry, which give the inputs' and outputs' descriptions) built into one shared object whose hn_gpu
 * functions come from the hepnc executable; entry is the C object's entry, cuda_entry the GPU object's.
 * hepnc infer --gpu and hepnc eval --gpu. Fails with a message where hepnc was built without CUDA. */
int hn_build_and_open_gpu(const hn_model_build *mb, hn_loaded_model *out);

/* The training build: the inference files plus NAME_train.c (hepnc compile --train), opened at both
 * entry points. entry->model is the same model's inference entry. */
typedef struct hn_loaded_train {
    hn_loaded_model model;
    const hn_train_entry *entry;
} hn_loaded_train;

int hn_build_and_open_train(const hn_model_build *mb, int use_cblas, hn_loaded_train *out);
/* The same with the GPU training step (NAME_cuda_train.c) built in: entry is hepnc_train_entry_gpu, whose
 * train_step runs on device 0 (or the emulated GPU) with host pointers (hepnc train --gpu). */
int hn_build_and_open_train_gpu(const hn_model_build *mb, hn_loaded_train *out);
void hn_loaded_train_close(hn_loaded_train *t);

#endif
