/* cuda_aot.c — the ahead-of-time build of the CUDA target: nvcc compiles NAME.cu into a fatbin with
 * machine code for each architecture asked for and the PTX of the newest (so a newer GPU can still JIT
 * it); NAME_cuda_source.c then carries the image, and the runtime loads it without NVRTC, falling back
 * to NVRTC on a GPU the image does not cover. */
#include "cuda_aot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

/* nvcc: $HEPNC_NVCC, the one found when hepnc was built, or the PATH's. */
static const char *nvcc_path(void)
{
    const char *env = getenv("HEPNC_NVCC");
    if (env && *env) return env;
#ifdef HEPNC_NVCC
    if (access(HEPNC_NVCC, X_OK) == 0) return HEPNC_NVCC;
#endif
    return "nvcc";
}

/* "-gencode arch=compute_80,code=sm_80 …" for "sm_80,sm_90", the last with its PTX too; -1 on a bad list. */
static int gencode_flags(const char *archs, char *out, size_t size)
{
    out[0] = '\0';
    char list[256];
    snprintf(list, sizeof list, "%s", archs);
    int count = 0;
    for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save), ++count) {
        int sm = 0;
        if (sscanf(a, "sm_%d", &sm) != 1 || sm < 50 || sm > 200) return -1;
        char *next = save && *save ? save : NULL;
        char item[96];
        if (next) snprintf(item, sizeof item, " -gencode arch=compute_%d,code=sm_%d", sm, sm);
        else snprintf(item, sizeof item, " -gencode arch=compute_%d,code=[sm_%d,compute_%d]", sm, sm, sm);
        if (strlen(out) + strlen(item) + 1 > size) return -1;
        strcat(out, item);
    }
    return count ? 0 : -1;
}

int hn_cuda_aot_build(const char *cu_path, const char *archs, unsigned char **image, size_t *size)
{
    *image = NULL;
    *size = 0;
    char flags[1024];
    if (gencode_flags(archs, flags, sizeof flags))
        return hn_error_plain("hepnc compile: error: --aot takes architectures like sm_80,sm_90 (got '%s')", archs);
    char out[] = "/tmp/hepnc-fatbin-XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) return hn_error_plain("hepnc compile: error: cannot create a temporary file for nvcc");
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -fatbin -std=c++17%s -o '%s' '%s' 2>&1", nvcc_path(), flags, out, cu_path);
    FILE *p = popen(cmd, "r");
    char line[1024];
    int printed = 0;
    while (p && fgets(line, sizeof line, p)) {      /* nvcc's messages name the line of NAME.cu */
        fprintf(stderr, "%s", line);
        printed = 1;
    }
    int rc = p ? pclose(p) : -1;
    FILE *f = rc == 0 ? fopen(out, "rb") : NULL;
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && st.st_size > 0 && (*image = malloc((size_t)st.st_size)) &&
        fread(*image, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
        *size = (size_t)st.st_size;
    if (f) fclose(f);
    unlink(out);
    if (*size) return printed ? hn_error_plain("%s: error: nvcc warned (above); the generated code must build cleanly",
                                               cu_path) : 0;
    free(*image);
    *image = NULL;
    return hn_error_plain("%s: error: nvcc could not build the fatbin for %s (%s)", cu_path, archs,
                          rc == 0 ? "no output" : "above; set HEPNC_NVCC to another nvcc if this one is missing");
}
