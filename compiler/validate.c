/* validate.c — see validate.h. Headers are checked through the sources that include them. */
#include "validate.h"

#include <clang-c/Index.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int validate_one(CXIndex index, const char *file, const char *const *args, int nargs)
{
    CXTranslationUnit tu = NULL;
    enum CXErrorCode rc = clang_parseTranslationUnit2(index, file, args, nargs, NULL, 0, CXTranslationUnit_None, &tu);
    if (rc != CXError_Success || !tu)
        return hn_error_plain("%s: error: libclang could not parse the generated file (code %d)", file, (int)rc);
    int bad = 0;
    unsigned n = clang_getNumDiagnostics(tu);
    for (unsigned i = 0; i < n; ++i) {
        CXDiagnostic d = clang_getDiagnostic(tu, i);
        if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Warning) {
            CXString s = clang_formatDiagnostic(d, clang_defaultDiagnosticDisplayOptions());
            fprintf(stderr, "%s\n", clang_getCString(s));
            clang_disposeString(s);
            ++bad;
        }
        clang_disposeDiagnostic(d);
    }
    clang_disposeTranslationUnit(tu);
    if (bad) return hn_error_plain("%s: error: the generated code has %d diagnostic(s) (a hepnc bug: please report it)", file, bad);
    return 0;
}

int hn_validate_c(const char *const *files, int nfiles, const char *const *include_dirs)
{
    const char *args[40] = { "-std=c11", "-Wall", "-Wextra", "-Wno-unknown-pragmas", "-DHN_VALIDATE" };
    char incs[32][600];
    int nargs = 5;
    for (int i = 0; include_dirs[i] && nargs < 36; ++i) {
        snprintf(incs[i], sizeof incs[i], "-I%s", include_dirs[i]);
        args[nargs++] = incs[i];
    }
    CXIndex index = clang_createIndex(0, 0);
    int rc = 0;
    for (int i = 0; i < nfiles; ++i)
        if (ends_with(files[i], ".c") && validate_one(index, files[i], args, nargs)) rc = -1;
    clang_disposeIndex(index);
    return rc;
}
