/* fixture.h — what the trainer tests share: the pass/fail tally, the labelled HDF5 files the mock model
 * reads (written here with the HDF5 C API), log.csv and checkpoint comparisons, the temp-file scan. */
#ifndef TRAINLOOP_FIXTURE_H
#define TRAINLOOP_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

extern int fx_passed, fx_failed;
void fx_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A separable two-class sample of `events` events for the mock model (seeded), at path. 0 on success. */
int fx_write_data(const char *path, int events, uint64_t seed);

/* dir/name into a static buffer (8 in rotation). */
const char *fx_path(const char *dir, const char *name);
/* rm -rf dir, then mkdir dir. */
void fx_fresh_dir(const char *dir);

/* log.csv rows: the first ncols comma-separated columns of each data row, joined; NULL when unreadable. */
char *fx_log_columns(const char *log_path, int ncols, int *rows);
/* Column col (0-based) of data row `row` (0-based) as a double; NaN when absent. */
double fx_log_value(const char *log_path, int row, int col);

/* 1 when both safetensors files hold tensor `name` with the same dtype, shape and bytes. */
int fx_same_tensor(const char *a, const char *b, const char *name);
/* Entries of dir whose name contains ".tmp". */
int fx_tmp_files(const char *dir);
int fx_exists(const char *path);

#endif
