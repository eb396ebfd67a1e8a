/* diag.h — compiler diagnostics: "FILE:LINE:COL: error: message", the source line and a caret.
 *
 * Every user-facing error of the front-end goes through here, so that all of them look the same
 * and carry a location. A location with line 0 names only the file. */
#ifndef HN_DIAG_H
#define HN_DIAG_H

#include <stdarg.h>

typedef struct hn_source {
    const char *path;       /* as the user gave it */
    char *text;             /* whole file, NUL-terminated (embedded NULs possible in garbage) */
    long length;
    const char **lines;     /* start of each line inside text */
    int nlines;
} hn_source;

typedef struct hn_loc {
    const hn_source *src;
    int line, col;          /* 1-based; 0 = unknown */
} hn_loc;

/* Reads a whole file; on failure prints "PATH: error: …" and returns -1. */
int hn_source_read(hn_source *s, const char *path);
void hn_source_free(hn_source *s);

/* Print an error (and count it). Always returns -1 so callers can `return hn_error(...)`. */
int hn_error(hn_loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note attached to the previous error (no caret when loc.line == 0). */
void hn_note(hn_loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Error without a source location (a file that cannot be opened, a tool that failed). */
int hn_error_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hn_error_count(void);

/* "did you mean": the candidate closest to `word` by edit distance, or NULL if none is close. */
const char *hn_closest(const char *word, const char *const *candidates, int n);

#endif
