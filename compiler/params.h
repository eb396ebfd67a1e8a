/* params.h — the parameter blob on the compiler side: filled from a weights file and folded exactly
 * as the generated loader does (same runtime functions), for embedding and for checks. */
#ifndef HN_PARAMS_H
#define HN_PARAMS_H

#include "ir.h"

/* Returns a malloc'd blob of g->param_floats floats, or NULL after printing an error. */
float *hn_params_load(const hn_graph *g, const char *weights_path);
/* The same without the folds: the file's tensors at their offsets, derived slots zero (training). */
float *hn_params_load_raw(const hn_graph *g, const char *weights_path);

#endif
