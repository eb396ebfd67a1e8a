/* driver.h — what the commands share: spec → IR through the whole pipeline, and code generation
 * into a directory with validation. */
#ifndef HN_DRIVER_H
#define HN_DRIVER_H

#include <stdint.h>

#include "ir.h"
#include "spec.h"

#define HN_VERSION "0.1.0"

typedef struct hn_model_build {
    hn_spec spec;
    hn_graph graph;
    uint64_t spec_hash;
} hn_model_build;

/* Parses, lowers and runs the passes; dump_after (or NULL) prints the IR after that pass to stdout. */
int hn_frontend(hn_model_build *mb, const char *spec_path, const char *dump_after);
void hn_model_build_free(hn_model_build *mb);

typedef struct hn_codegen_options {
    const char *weights;        /* embed these weights (NULL: none) */
    int use_cblas;
    int validate;               /* parse the output with libclang */
    int train;                  /* also NAME_train.c (the training step, hepnc/train_entry.h) */
} hn_codegen_options;

/* The training graph of a spec: lowered again, unfolded, planned for a training step (every tensor
 * kept). Its file parameters must sit where the inference graph has them (checked). */
int hn_train_graph(const hn_model_build *mb, hn_graph *tg);

/* Emits into dir and validates. files/nfiles receive the paths written. */
int hn_codegen(const hn_model_build *mb, const hn_codegen_options *opt, const char *dir, char files[][512], int *nfiles);

/* Directories the generated code is compiled with: the runtime headers and cblas.h. */
const char *hn_runtime_include_dir(void);
const char *hn_cblas_include_dir(void);

/* Option parsing shared by the commands: matches "--name value" and "--name=value". */
int hn_opt(int argc, char **argv, int *i, const char *name, const char **value);

#endif
