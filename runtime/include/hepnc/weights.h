/* weights.h — safetensors weight files: read (with every check a truncated or foreign file needs)
 * and write (atomically). Format: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
 * then the data buffer, offsets relative to its start. */
#ifndef HEPNC_WEIGHTS_H
#define HEPNC_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hn_weights hn_weights;

typedef struct hn_tensor_info {
    const char *name;
    const char *dtype;          /* "F32", "F64", "F16", "BF16", … as in the file */
    int ndim;
    int64_t shape[8];
    const void *data;           /* inside the file image; may be unaligned */
    size_t nbytes;
} hn_tensor_info;

/* NULL and a message in err when the file cannot be read or is not a valid safetensors file. */
hn_weights *hn_weights_open(const char *path, char *err, size_t errlen);
void hn_weights_close(hn_weights *w);
int hn_weights_count(const hn_weights *w);
const hn_tensor_info *hn_weights_at(const hn_weights *w, int i);
const hn_tensor_info *hn_weights_find(const hn_weights *w, const char *name);

/* Copies tensor `name` as float32 into dst after checking that it exists, that its shape is
 * expected[0..ndim) and that its dtype is F32, F64, F16 or BF16 (converted). Non-zero and a message
 * naming the file and the tensor otherwise. */
int hn_weights_copy_f32(const hn_weights *w, const char *name, int ndim, const int64_t *expected, float *dst,
                        char *err, size_t errlen);

typedef struct hn_tensor_out {
    const char *name;
    int ndim;
    int64_t shape[8];
    const float *data;
} hn_tensor_out;

/* Writes float32 tensors (names must be unique) to path via a temporary file and a rename. */
int hn_safetensors_write(const char *path, int n, const hn_tensor_out *t, char *err, size_t errlen);

#endif
