/* data.h — the project's HDF5 dataset layout (docs/data.md is the contract) and the outputs file.
 *
 * For each spec input <in>:
 *   /<in>/features   float [E, M, F] (set input) or [E, F] (per-event input); optional attribute
 *                    `names` (F strings, fixed or variable length) checked against the spec's features
 *   /<in>/mask       [E, M], integer, bool or float; nonzero = real row; real rows first (optional)
 *   /<in>/vectors    float [E, M, 4] (px, py, pz, E) in GeV (optional)
 *   /labels          integer [E] (optional)
 * M may differ from the spec's max: extra rows are dropped, missing rows are padding (zeros).
 *
 * Every function that can fail returns NULL or non-zero and writes one line to err (errlen bytes, err
 * may be NULL) naming the file and the dataset, with the expected and found shape where that is the
 * fault. HDF5's own error printing is switched off (H5Eset_auto2) by open and create.
 * A handle is not thread-safe; use one per thread (and a thread-safe HDF5 build) or a lock. */
#ifndef HEPNC_DATA_H
#define HEPNC_DATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_dataset hn_dataset;

/* Opens path read-only and finds E: the first extent of /labels and of every /<g>/features, /<g>/mask
 * and /<g>/vectors must agree (else an error naming two that differ). */
hn_dataset *hn_dataset_open(const char *path, char *err, size_t errlen);
void hn_dataset_close(hn_dataset *d);                   /* NULL is fine */
int64_t hn_dataset_events(const hn_dataset *d);

/* Events [first, first+count) of set input `in` into x [count][max][nfeat] and n [count]: n[k] is the
 * event's real rows (from the mask, or M without one) capped at max; rows n[k]..max-1 are zero.
 * names (nfeat strings, may be NULL) are checked against the `names` attribute when the file has one. */
int hn_dataset_read_set(hn_dataset *d, const char *in, int max, int nfeat, const char *const *names, int64_t first,
                        int count, float *x, int32_t *n, char *err, size_t errlen);
/* The 4-vectors of set input `in` into p4 [count][max][4], zero beyond each event's real rows. */
int hn_dataset_read_vectors(hn_dataset *d, const char *in, int max, int64_t first, int count, float *p4, char *err,
                            size_t errlen);
/* Pair input `in` (/<in>/features [E, M, M, nfeat]: features of each ordered pair of a set's rows) into
 * x [count][max][max][nfeat]; pairs beyond M are zero. */
int hn_dataset_read_pairs(hn_dataset *d, const char *in, int max, int nfeat, const char *const *names, int64_t first,
                          int count, float *x, char *err, size_t errlen);
/* Per-event input `in` into x [count][nfeat]. */
int hn_dataset_read_global(hn_dataset *d, const char *in, int nfeat, const char *const *names, int64_t first,
                           int count, float *x, char *err, size_t errlen);
int hn_dataset_has_labels(const hn_dataset *d);
int hn_dataset_read_labels(hn_dataset *d, int64_t first, int count, int32_t *labels, char *err, size_t errlen);
/* /weights (optional, numbers [E]): per-event weights, e.g. DarkMachines' cross-section weights. */
int hn_dataset_has_weights(const hn_dataset *d);
int hn_dataset_read_weights(hn_dataset *d, int64_t first, int count, float *weights, char *err, size_t errlen);

/* The outputs file: one float32 dataset /<out_names[o]> of shape [events][out_widths[o]] per output, and
 * /labels (int32 [events]) once written. It is created as "path.tmp.<pid>.<k>"; hn_scores_close with
 * commit = 1 checks that every row of every output (and of /labels, when any was written) has been
 * written, flushes and renames it into place; commit = 0, or any failure, removes it. Until then
 * nothing exists at path. */
typedef struct hn_scores_file hn_scores_file;
hn_scores_file *hn_scores_create(const char *path, int64_t events, int nout, const char *const *out_names,
                                 const int *out_widths, char *err, size_t errlen);
/* rows: [count][width] of output out_index, for events [first, first+count). */
int hn_scores_write(hn_scores_file *s, int out_index, int64_t first, int count, const float *rows, char *err,
                    size_t errlen);
/* One more dataset /<name>: [events][width], or [events] for width 0; float32 rows (hn_scores_write) or, with
 * int32 = 1, int32 rows (hn_scores_write_int). Returns its out_index (after the model's outputs), or -1. Used
 * for what `hepnc infer` derives from the outputs (SPANet's decoded assignments). */
int hn_scores_add(hn_scores_file *s, const char *name, int width, int int32, char *err, size_t errlen);
int hn_scores_write_int(hn_scores_file *s, int out_index, int64_t first, int count, const int32_t *rows, char *err,
                        size_t errlen);
/* Optional: column names (width strings, e.g. class names) stored as the attribute `names` of the output. */
int hn_scores_set_names(hn_scores_file *s, int out_index, const char *const *column_names, char *err, size_t errlen);
int hn_scores_write_labels(hn_scores_file *s, int64_t first, int count, const int32_t *labels, char *err,
                           size_t errlen);
int hn_scores_close(hn_scores_file *s, int commit, char *err, size_t errlen);   /* NULL is fine */

#ifdef __cplusplus
}
#endif

#endif
