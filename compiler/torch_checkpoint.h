/* torch_checkpoint.h — reads a PyTorch (>= 1.6) zip checkpoint without PyTorch.
 *
 * Layout: a zip archive with PREFIX/data.pkl (the pickled object; PREFIX is "archive" or the file's
 * stem) and PREFIX/data/<key> (each storage's raw little-endian bytes). A state_dict pickles as
 * collections.OrderedDict of name → torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …),
 * the storage a persistent id ('storage', torch.FloatStorage, key, location, numel).
 * A dict holding the state_dict under 'state_dict' or 'model' is accepted too. */
#ifndef HN_TORCH_CHECKPOINT_H
#define HN_TORCH_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define HN_TORCH_MAX_RANK 8

typedef struct hn_torch_tensor {
    char *name;                 /* the state_dict key */
    const char *dtype;          /* "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL" */
    int elsize;
    int ndim;
    int64_t shape[HN_TORCH_MAX_RANK];
    int64_t stride[HN_TORCH_MAX_RANK];   /* in elements */
    int64_t offset;             /* storage offset, in elements */
    char *storage;              /* the key in PREFIX/data/ */
    int64_t numel;              /* product of shape */
} hn_torch_tensor;

typedef struct hn_torch_checkpoint hn_torch_checkpoint;

/* Opens the archive and parses data.pkl. NULL and one line naming the file on failure (not a zip,
 * truncated, no data.pkl, not a state_dict, a tensor whose storage entry is missing or too short). */
hn_torch_checkpoint *hn_torch_open(const char *path, char *err, size_t errlen);
void hn_torch_close(hn_torch_checkpoint *c);
int hn_torch_count(const hn_torch_checkpoint *c);
const hn_torch_tensor *hn_torch_at(const hn_torch_checkpoint *c, int i);   /* in state_dict order */

/* Copies tensor i into dst (numel floats, C order) converting any dtype to float32. */
int hn_torch_read_f32(hn_torch_checkpoint *c, int i, float *dst, char *err, size_t errlen);

#endif
