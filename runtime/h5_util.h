/* h5_util.h — what runtime/data.c (reading datasets) and runtime/scores.c (the outputs file) share:
 * the error-message convention and HDF5's own printing turned off. Private to the runtime. */
#ifndef HN_H5_UTIL_H
#define HN_H5_UTIL_H

#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>

#define PATH_LEN 512

/* Writes the message to err (when given) and returns -1. */
static inline int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static inline void quiet_hdf5(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

#endif
