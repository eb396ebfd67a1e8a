/* emit_c_spanet.h — the SPANet decoder of a generated C object: NAME_decode, the unique jet–parton
 * assignment of every event from the outputs, on templates/c/assign_decode.h (the runtime's decoder), with
 * the topology's particles, degrees and group orders as constants. Emitted when every event particle's
 * <particle>.assignment is an output of a spec with `topology:`. */
#ifndef HN_EMIT_C_SPANET_H
#define HN_EMIT_C_SPANET_H

#include <stdio.h>

#include "ir.h"

/* The declaration and its macros, for NAME.h (nothing when the spec has no decoder). */
void hn_emit_spanet_decode_decl(FILE *f, const hn_graph *g, const char *lower, const char *upper);
/* The definition, for NAME.c. */
void hn_emit_spanet_decode_def(FILE *f, const hn_graph *g, const char *lower, const char *upper);

#endif
