/* validate_cuda.c — NVRTC compiles the generated .cu for each architecture; ptxas (from the CUDA
 * toolkit) then reports register spills, which fail the check when asked. Without NVRTC at build time
 * the check says so and fails (hepnc compile --target cuda needs it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "emit_cuda.h"

#ifdef HEPNC_HAVE_NVRTC
#include <nvrtc.h>

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

static int is_strict(const char *line, char strict[][128], int nstrict)
{
    for (int i = 0; i < nstrict; ++i) {
        char quoted[140];
        snprintf(quoted, sizeof quoted, "'%s'", strict[i]);
        if (strstr(line, quoted)) return 1;
    }
    return 0;
}

static int spills(const char *ptx, const char *arch, const char *cu_path, char strict[][128], int nstrict)
{
    char tmp[] = "/tmp/hepnc-ptx-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) return hn_error_plain("hepnc: error: cannot create a temporary PTX file");
    FILE *f = fdopen(fd, "w");
    fputs(ptx, f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -arch=%s -warn-spills %s -o /dev/null 2>&1", HEPNC_PTXAS, arch, tmp);
    FILE *p = popen(cmd, "r");
    int bad = 0;
    char line[1024];
    while (p && fgets(line, sizeof line, p)) {
        int spill = strstr(line, "spill") != NULL, error = strstr(line, "error") != NULL;
        if (!spill && !error) continue;
        fprintf(stderr, "%s: ptxas (%s): %s%s", cu_path, arch, line,
                spill && !error && !is_strict(line, strict, nstrict) ? "  (reported; not one of the attention or pair kernels)\n" : "");
        if (error || is_strict(line, strict, nstrict)) bad = 1;
    }
    int rc = p ? pclose(p) : -1;
    unlink(tmp);
    if (rc != 0 && !bad) return hn_error_plain("%s: error: ptxas failed for %s", cu_path, arch);
    return bad ? hn_error_plain("%s: error: ptxas for %s: a spill in an attention or pair kernel, or an error (above)",
                                cu_path, arch) : 0;
}

int hn_validate_cuda(const char *cu_path, const char *const *archs, int narchs, char strict[][128], int nstrict)
{
    char *src = read_all(cu_path);
    if (!src) return hn_error_plain("%s: error: cannot read", cu_path);
    int rc = 0;
    for (int a = 0; a < narchs && !rc; ++a) {
        nvrtcProgram prog;
        nvrtcCreateProgram(&prog, src, cu_path, 0, NULL, NULL);
        char arch_opt[64];
        snprintf(arch_opt, sizeof arch_opt, "--gpu-architecture=compute_%s", archs[a] + 3);
        const char *opts[] = { arch_opt, "--std=c++17", "-default-device" };
        nvrtcResult r = nvrtcCompileProgram(prog, 3, opts);
        size_t log_size = 0;
        nvrtcGetProgramLogSize(prog, &log_size);
        if (r != NVRTC_SUCCESS || log_size > 1) {
            char *log = malloc(log_size + 1);
            nvrtcGetProgramLog(prog, log);
            if (r != NVRTC_SUCCESS || strstr(log, "warning")) {
                fprintf(stderr, "%s", log);
                rc = hn_error_plain("%s: error: NVRTC %s for %s", cu_path, r != NVRTC_SUCCESS ? "failed" : "warned", archs[a]);
            }
            free(log);
        }
        if (!rc) {
            size_t n = 0;
            nvrtcGetPTXSize(prog, &n);
            char *ptx = malloc(n + 1);
            nvrtcGetPTX(prog, ptx);
            rc = spills(ptx, archs[a], cu_path, strict, nstrict);
            free(ptx);
        }
        nvrtcDestroyProgram(&prog);
    }
    free(src);
    return rc;
}
#else
int hn_validate_cuda(const char *cu_path, const char *const *archs, int narchs, char strict[][128], int nstrict)
{
    (void)archs; (void)narchs; (void)strict; (void)nstrict;
    return hn_error_plain("%s: error: this hepnc was built without NVRTC (the CUDA toolkit); the CUDA source was "
                          "written but not validated", cu_path);
}
#endif
