/* build.c — see build.h.
 *
 * The generated files are written to a fresh temporary directory, hashed (sources + compiler command),
 * and compiled only when <cache>/<name>-<hash>/model.so does not exist yet; the finished directory is
 * renamed into place, so concurrent or interrupted builds never leave a half-built cache entry. */
#include "build.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "emit_c.h"
#include "emit_cuda.h"
#include "emit_cuda_train.h"
#include "fsutil.h"

void openblas_set_num_threads(int num_threads);

#define CFLAGS "-O3 -march=native -std=c11 -fPIC -shared"

static void cache_root(char *dst, size_t n)
{
    const char *env = getenv("HEPNC_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (env && *env) snprintf(dst, n, "%s", env);
    else if (xdg && *xdg) snprintf(dst, n, "%s/hepnc", xdg);
    else snprintf(dst, n, "%s/.cache/hepnc", home && *home ? home : "/tmp");
}

static uint64_t hash_files(char files[][512], int n, uint64_t h)
{
    for (int i = 0; i < n; ++i) {
        FILE *f = fopen(files[i], "rb");
        if (!f) continue;
        char buf[65536];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) h = hn_fnv1a(buf, got, h);
        fclose(f);
        const char *base = strrchr(files[i], '/');
        h = hn_fnv1a(base, strlen(base), h);
    }
    return h;
}

/* What a build holds beside the C object's inference files (build()'s `kind`). */
enum { BUILD_INFER = 0, BUILD_TRAIN = 1, BUILD_TRAIN_GPU = 2, BUILD_INFER_GPU = 3 };

/* train: 0 the inference files, 1 and NAME_train.c, 2 and NAME_cuda_train.c (the GPU step, built against
 * gpu/include; its hn_gpu and hn_gt functions come from the hepnc executable, which exports them), 3 and the
 * GPU object's NAME_cuda.c, NAME_cuda_source.c and NAME_cuda_entry.c (the same way). */
static int run_compiler(const char *dir, const char *name, int use_cblas, const char *extra, int train)
{
    char train_src[2 * HN_NAME + 1200] = "";
    if (train == 1) snprintf(train_src, sizeof train_src, "%s_train.c", name);
#ifdef HEPNC_GPU_INCLUDE
    if (train == BUILD_TRAIN_GPU)
        snprintf(train_src, sizeof train_src, "%s_train.c %s_cuda_train.c -I'" HEPNC_GPU_INCLUDE "'", name, name);
    if (train == BUILD_INFER_GPU)
        snprintf(train_src, sizeof train_src, "%s_cuda.c %s_cuda_source.c %s_cuda_entry.c -I'" HEPNC_GPU_INCLUDE "'", name,
                 name, name);
#endif
    const char *cc = getenv("CC");
    char cmd[6144];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && %s " CFLAGS " %s -I. -I'%s' %s%s%s %s.c %s_load.c %s_entry.c %s -o model.so.tmp %s -lm 2> build.log"
             " && mv model.so.tmp model.so",
             dir, cc && *cc ? cc : "cc", extra, hn_runtime_include_dir(), use_cblas ? "-I'" : "",
             use_cblas ? hn_cblas_include_dir() : "", use_cblas ? "'" : "", name, name, name, train_src,
             use_cblas ? "-lopenblas" : "");
    int rc = system(cmd);
    if (rc != 0) {
        char log[1200];
        snprintf(log, sizeof log, "%s/build.log", dir);
        fprintf(stderr, "hepnc: error: building the generated code failed; the compiler said (%s):\n", log);
        FILE *f = fopen(log, "r");
        if (f) {
            char line[512];
            for (int k = 0; k < 30 && fgets(line, sizeof line, f); ++k) fputs(line, stderr);
            fclose(f);
        }
        return -1;
    }
    return 0;
}

static int remove_tree(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

int hn_build_and_open(const hn_model_build *mb, int use_cblas, hn_loaded_model *out)
{
    return hn_build_and_open_with(mb, use_cblas, "", out);
}

static int build(const hn_model_build *mb, int use_cblas, const char *extra, int train, hn_loaded_model *out)
{
    memset(out, 0, sizeof *out);
    char root[700], tmp[900], final[900], files[24][512];
    int nfiles = 0;
    cache_root(root, sizeof root);
    if (hn_mkdirs(root)) return hn_error_plain("%s: error: cannot create the build cache: %s", root, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%ld", root, mb->graph.name, (long)getpid());
    remove_tree(tmp);
    hn_codegen_options co = { .use_cblas = use_cblas, .validate = 0, .train = train == BUILD_TRAIN || train == BUILD_TRAIN_GPU };
    if (hn_codegen(mb, &co, tmp, files, &nfiles)) { remove_tree(tmp); return -1; }
    if (train == BUILD_INFER_GPU) {     /* the GPU object beside the C one (its header, loader and entry) */
        static char strict[64][128];
        int nstrict = 0;
        if (hn_emit_cuda(&mb->graph, mb->graph.spec_path, tmp, NULL, files, &nfiles, strict, &nstrict)) { remove_tree(tmp); return -1; }
    }
    if (train == 2) {           /* the GPU training step beside the C one */
        hn_graph tg;
        memset(&tg, 0, sizeof tg);
        int bad = hn_train_graph(mb, &tg) || hn_emit_cuda_train(&tg, tmp, files, &nfiles);
        hn_graph_free(&tg);
        if (bad) { remove_tree(tmp); return -1; }
    }
    const char *cc = getenv("CC");
    uint64_t h = hn_fnv1a(CFLAGS, strlen(CFLAGS), HN_FNV_OFFSET);
    if (cc) h = hn_fnv1a(cc, strlen(cc), h);
    h = hn_fnv1a(extra, strlen(extra), h);
    h = hash_files(files, nfiles, h);
    h = hn_fnv1a(&train, sizeof train, h);
    snprintf(final, sizeof final, "%s/%s-%016llx", root, mb->graph.name, (unsigned long long)h);
    snprintf(out->so_path, sizeof out->so_path, "%s/model.so", final);
    if (access(out->so_path, R_OK) == 0) {
        out->cached = 1;
        remove_tree(tmp);
    } else {
        if (run_compiler(tmp, mb->graph.name, use_cblas, extra, train)) return -1;
        remove_tree(final);                      /* an incomplete entry from a killed build */
        if (rename(tmp, final)) {
            remove_tree(tmp);
            if (access(out->so_path, R_OK) != 0)
                return hn_error_plain("%s: error: cannot store the build: %s", final, strerror(errno));
        }
    }
    /* never unmapped: an OpenMP build leaves libgomp worker threads that would run unmapped code after a
       dlclose (seen as a crash at exit) */
    out->dl = dlopen(out->so_path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!out->dl) return hn_error_plain("hepnc: error: cannot load the built model: %s", dlerror());
    const hn_model_entry *(*entry_fn)(void) = (const hn_model_entry *(*)(void))dlsym(out->dl, "hepnc_model_entry");
    if (!entry_fn) return hn_error_plain("%s: error: no hepnc_model_entry in the built model", out->so_path);
    out->entry = entry_fn();
    if (out->entry->abi != HN_MODEL_ABI) return hn_error_plain("%s: error: model ABI mismatch", out->so_path);
    if (train == BUILD_INFER_GPU) {
        const void *(*cuda_fn)(void) = (const void *(*)(void))dlsym(out->dl, "hepnc_cuda_model_entry");
        if (!cuda_fn) return hn_error_plain("%s: error: no hepnc_cuda_model_entry in the built model", out->so_path);
        out->cuda_entry = cuda_fn();
    }
    return 0;
}

int hn_build_and_open_gpu(const hn_model_build *mb, hn_loaded_model *out)
{
#ifdef HEPNC_GPU_INCLUDE
    return build(mb, 0, "", BUILD_INFER_GPU, out);
#else
    (void)mb;
    memset(out, 0, sizeof *out);
    return hn_error_plain("hepnc: error: this hepnc was built without the CUDA toolkit: no GPU inference");
#endif
}

int hn_build_and_open_with(const hn_model_build *mb, int use_cblas, const char *extra, hn_loaded_model *out)
{
    return build(mb, use_cblas, extra, BUILD_INFER, out);
}

static int open_train(const hn_model_build *mb, int use_cblas, int gpu, hn_loaded_train *out)
{
    memset(out, 0, sizeof *out);
    /* per-event loops of the training step share OpenMP's threads (OMP_NUM_THREADS). Idle OpenMP
       threads must sleep, not spin, while OpenBLAS's threads run the GEMMs between the parallel loops:
       spinning halves the speed on two cores (measured). libgomp reads this when the model loads. */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    if (build(mb, use_cblas, "-fopenmp", gpu ? BUILD_TRAIN_GPU : BUILD_TRAIN, &out->model)) return -1;
    /* the training step splits its GEMMs over OpenMP threads itself (templates/c/backward_parallel.h):
       OpenBLAS runs one thread per call, or the two thread pools fight over the cores (measured) */
    openblas_set_num_threads(1);
    const char *sym = gpu ? "hepnc_train_entry_gpu" : "hepnc_train_entry";
    const hn_train_entry *(*fn)(void) = (const hn_train_entry *(*)(void))dlsym(out->model.dl, sym);
    if (!fn) return hn_error_plain("%s: error: no %s in the built model", out->model.so_path, sym);
    out->entry = fn();
    if (out->entry->abi != HN_TRAIN_ABI) return hn_error_plain("%s: error: training ABI mismatch", out->model.so_path);
    return 0;
}

int hn_build_and_open_train(const hn_model_build *mb, int use_cblas, hn_loaded_train *out)
{
    return open_train(mb, use_cblas, 0, out);
}

int hn_build_and_open_train_gpu(const hn_model_build *mb, hn_loaded_train *out)
{
#ifdef HEPNC_GPU_INCLUDE
    return open_train(mb, 0, 1, out);
#else
    (void)mb;
    memset(out, 0, sizeof *out);
    return hn_error_plain("hepnc: error: this hepnc was built without the CUDA toolkit: no GPU training");
#endif
}

void hn_loaded_train_close(hn_loaded_train *t)
{
    hn_loaded_model_close(&t->model);
    t->entry = NULL;
}

void hn_loaded_model_close(hn_loaded_model *m)
{
    if (m->dl) dlclose(m->dl);
    memset(m, 0, sizeof *m);
}
