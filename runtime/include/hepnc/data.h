/* data.h — the project's HDF5 dataset layout (docs/data.md) and the outputs file.
 *
 * For each spec input <in>:
 *   /<in>/features   float [E, M, F] (set input) or [E, F] (per-event input); attribute `names` (F strings)
 *   /<in>/mask       [E, M], any numeric type, nonzero = real row; real rows first (optional)
 *   /<in>/vectors    float [E, M, 4] (px, py, pz, E) in GeV (optional)
 *   /labels          integer [E] (optional)
 * M may differ from the spec's max: extra rows are dropped, missing rows are padding. */
#ifndef HEPNC_DATA_H
#define HEPNC_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct hn_dataset hn_dataset;

hn_dataset *hn_dataset_open(const char *path, char *err, size_t errlen);
void hn_dataset_close(hn_dataset *d);
/* Number of events E (from the first input group or /labels; every dataset read is checked against it). */
int64_t hn_dataset_events(const hn_dataset *d);

/* Events [first, first+count) of set input `in` into x [count][max][nfeat] (zeros beyond each event's
 * real rows) and n [count]. names (nfeat strings, may be NULL) are checked against the `names` attribute. */
int hn_dataset_read_set(hn_dataset *d, const char *in, int max, int nfeat, const char *const *names, int64_t first,
                        int count, float *x, int32_t *n, char *err, size_t errlen);
int hn_dataset_read_vectors(hn_dataset *d, const char *in, int max, int64_t first, int count, float *p4, char *err,
                            size_t errlen);
int hn_dataset_read_global(hn_dataset *d, const char *in, int nfeat, const char *const *names, int64_t first,
                           int count, float *x, char *err, size_t errlen);
int hn_dataset_has_labels(const hn_dataset *d);
int hn_dataset_read_labels(hn_dataset *d, int64_t first, int count, int32_t *labels, char *err, size_t errlen);

/* The outputs file: one float dataset [E][width] per output, /labels when written. Created under a
 * temporary name; hn_scores_close(commit = 1) renames it into place, commit = 0 removes it. */
typedef struct hn_scores_file hn_scores_file;
hn_scores_file *hn_scores_create(const char *path, int64_t events, int nout, const char *const *names,
                                 const int *widths, char *err, size_t errlen);
int hn_scores_write(hn_scores_file *s, int out, int64_t first, int count, const float *rows, char *err, size_t errlen);
int hn_scores_write_labels(hn_scores_file *s, int64_t first, int count, const int32_t *labels, char *err,
                           size_t errlen);
int hn_scores_close(hn_scores_file *s, int commit, char *err, size_t errlen);

#endif
