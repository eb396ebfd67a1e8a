/* fsutil.h — file-system helpers of the compiler. */
#ifndef HN_FSUTIL_H
#define HN_FSUTIL_H

/* mkdir -p; 0 on success. */
int hn_mkdirs(const char *path);

/* Writes len bytes to dir/name through a temporary file and a rename (nothing half-written on
 * failure, with a message naming the path); path_out (512 bytes) receives the path. 0 on success. */
#include <stddef.h>
int hn_write_file_atomic(const char *dir, const char *name, const char *data, size_t len, char *path_out);

#endif
