/* weights.h — safetensors weight files: read (with every check a truncated or foreign file needs)
 * and write (atomically). Format (docs/data.md): u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
 * then the data buffer; offsets are relative to its start.
 *
 * Every function that can fail returns NULL or non-zero and writes one line to err (errlen bytes,
 * always NUL-terminated, err may be NULL) that names the file and, when there is one, the tensor. */
#ifndef HEPNC_WEIGHTS_H
#define HEPNC_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HN_TENSOR_MAX_RANK 8

typedef struct hn_weights hn_weights;

typedef struct hn_tensor_info {
    const char *name;
    const char *dtype;          /* "F32", "F64", "F16", "BF16", "I64", … as in the file */
    int ndim;
    int64_t shape[HN_TENSOR_MAX_RANK];
    const void *data;           /* inside the file image; may be unaligned: copy with memcpy */
    size_t nbytes;
} hn_tensor_info;

/* Reads the whole file into memory and validates the header: length, JSON, dtypes, shapes, and that
 * every tensor's data_offsets lie inside the data buffer, do not overlap another tensor's, and hold
 * exactly dtype size × elements bytes. NULL and a message when any check fails. */
hn_weights *hn_weights_open(const char *path, char *err, size_t errlen);
void hn_weights_close(hn_weights *w);                   /* NULL is fine */
const char *hn_weights_path(const hn_weights *w);
int hn_weights_count(const hn_weights *w);
/* Tensors in header order (the order of the file's JSON); NULL when i is out of range. */
const hn_tensor_info *hn_weights_at(const hn_weights *w, int i);
const hn_tensor_info *hn_weights_find(const hn_weights *w, const char *name);
/* The value of key in "__metadata__", or NULL. */
const char *hn_weights_metadata(const hn_weights *w, const char *key);

/* Copies tensor `name` as float32 into dst (expected[0] × … × expected[ndim-1] floats) after checking
 * that it exists, that its shape is expected[0..ndim) and that its dtype is floating point: F32 is
 * copied, F64, F16 and BF16 are converted (rounded to nearest). Non-zero and a message such as
 *   "W.safetensors: tensor 'phi.0.weight' has shape [64, 7], the spec needs [64, 8]"
 *   "W.safetensors: tensor 'phi.0.bias' is missing (the spec needs shape [64])"
 * otherwise. dst is untouched on failure. */
int hn_weights_copy_f32(const hn_weights *w, const char *name, int ndim, const int64_t *expected, float *dst,
                        char *err, size_t errlen);

typedef struct hn_tensor_out {
    const char *name;
    int ndim;
    int64_t shape[HN_TENSOR_MAX_RANK];
    const float *data;
} hn_tensor_out;

/* Writes n float32 tensors (names unique and non-empty, in the given order, data 8-byte aligned) to
 * path: to "path.tmp.<pid>.<k>" first, flushed to disk, then renamed over path. On failure path is
 * untouched and no temporary file is left. */
int hn_safetensors_write(const char *path, int n, const hn_tensor_out *t, char *err, size_t errlen);
/* The same with a "__metadata__" object of nmeta string pairs keys[i]: values[i] (keys unique and
 * non-empty; written first in the header, as the safetensors Python package does). nmeta = 0 writes
 * exactly what hn_safetensors_write writes. */
int hn_safetensors_write_meta(const char *path, int n, const hn_tensor_out *t, int nmeta, const char *const *keys,
                              const char *const *values, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
