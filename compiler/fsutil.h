/* fsutil.h — file-system helpers of the compiler. */
#ifndef HN_FSUTIL_H
#define HN_FSUTIL_H

/* mkdir -p; 0 on success. */
int hn_mkdirs(const char *path);

#endif
