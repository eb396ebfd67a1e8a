/* model.h — the generic entry point of a generated model, used by `hepnc infer` (which builds the
 * generated code into a shared object and finds `hepnc_model_entry` in it) and by hosts that load
 * models they do not know at compile time. Models used directly are called through their own
 * typed API (<name>.h) instead. */
#ifndef HEPNC_MODEL_H
#define HEPNC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_io_desc {
    const char *name;
    int is_set;                 /* set axes: 1: [max][width] per event with a run-time count; 2: [max][max][width]
                                   (pairs of a set's rows); 0: [width] */
    int masked;                 /* set inputs: 1 when a count per event is read */
    int max;                    /* set extent (1 when is_set == 0) */
    int width;                  /* features per row */
    int nfeatures;
    const char *const *features;   /* feature names (inputs), NULL for outputs */
    int vectors_of;             /* 4-vectors (px, py, pz, E) of the rows of input `vectors_of`; else -1 */
    int pairs_of;               /* pair features of the rows of input `pairs_of`; else -1 */
} hn_io_desc;

typedef struct hn_model_entry {
    int abi;                    /* HN_MODEL_ABI */
    const char *name;
    const char *spec_hash;
    int ninputs;
    const hn_io_desc *inputs;
    int noutputs;
    const hn_io_desc *outputs;
    size_t (*workspace_bytes)(int batch);
    /* Loads a safetensors file; on failure returns non-zero and writes a message to err. */
    int (*load)(void **model, const char *weights_path, char *err, size_t errlen);
    void (*release)(void *model);
    /* inputs[k]: [batch][max][width] or [batch][width]; counts[k]: [batch] for masked sets, else NULL. */
    int (*infer)(const void *model, const float *const *inputs, const int32_t *const *counts, int batch,
                 float *const *outputs, void *workspace);
} hn_model_entry;

#define HN_MODEL_ABI 3

/* Return codes of generated infer functions. */
#define HN_OK 0
#define HN_ERR_SET_SIZE 1       /* a count is negative or above the set's max */
#define HN_ERR_BATCH 2          /* batch < 0 */

#ifdef __cplusplus
}
#endif

#endif
