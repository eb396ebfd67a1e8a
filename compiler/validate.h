/* validate.h — the generated C parsed by libclang: any warning or error fails the compile. */
#ifndef HN_VALIDATE_H
#define HN_VALIDATE_H

/* include_dirs: NULL-terminated. Returns 0 when every file parses with zero diagnostics. */
int hn_validate_c(const char *const *files, int nfiles, const char *const *include_dirs);

#endif
