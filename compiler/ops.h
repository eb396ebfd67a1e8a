/* ops.h — the op table: the single source of truth for every op hepnc knows.
 *
 * Each op is one entry in HN_OP_LIST and one file in compiler/ops/ that defines `hn_op_def_<name>`:
 * its YAML attributes (schema, defaults, documentation), its shape rule and parameters, its
 * lowering (for composite physics blocks), its C emission and its cost. The front-end, the passes,
 * the emitter, `hepnc ops` and docs/spec.md all read this table; an op without an entry cannot
 * parse, emit or be documented. */
#ifndef HN_OPS_H
#define HN_OPS_H

#include "ir.h"

#define HN_OP_LIST(X) \
    X(linear)         \
    X(layernorm)      \
    X(batchnorm)      \
    X(relu)           \
    X(gelu)           \
    X(softmax)        \
    X(add)            \
    X(concat)         \
    X(slice)          \
    X(flatten)        \
    X(pool)           \
    X(standardize)    \
    X(pair_features)  \
    X(pair_embed)     \
    X(sm_interaction) \
    X(attention)      \
    X(residual)       \
    X(class_token)    \
    X(cls_attention)  \
    X(edge_conv)      \
    X(mlp)            \
    X(embed)          \
    X(particle_attention) \
    X(class_attention) \
    X(dropout)        \
    X(sigmoid)        \
    X(token_prepend)  \
    X(token_take)     \
    X(gru_gate)       \
    X(position_embed) \
    X(vector_normalize) \
    X(symmetric_attention) \
    X(set_prepend)    \
    X(denormalize)    \
    X(spanet)         \
    X(rmsnorm)        \
    X(feature_mean)   \
    X(iaformer_pair_features) \
    X(interaction_logits) \
    X(differential_attention) \
    X(iaformer)

enum {
#define HN_OP_ENUM(name) HN_OP_##name,
    HN_OP_LIST(HN_OP_ENUM)
#undef HN_OP_ENUM
    HN_NUM_OPS
};

typedef enum {
    HN_ATTR_INT,        /* a positive integer */
    HN_ATTR_COUNT,      /* a non-negative integer (a number of layers that may be 0) */
    HN_ATTR_FLOAT,      /* a number */
    HN_ATTR_BOOL,       /* true / false */
    HN_ATTR_ENUM,       /* one of `choices` ("a|b|c") */
    HN_ATTR_INTS,       /* a non-empty list of positive integers */
    HN_ATTR_FLOATS,     /* a non-empty list of numbers (.inf and -.inf allowed) */
    HN_ATTR_NAMES,      /* a list of names (feature names) */
    HN_ATTR_TENSOR,     /* the name of one tensor (an input or a layer) */
    HN_ATTR_TENSORS     /* a list of two or more tensor names */
} hn_attr_type;

typedef struct hn_attr_spec {
    const char *key;
    hn_attr_type type;
    int required;
    const char *def;            /* default as YAML text, NULL when none */
    const char *choices;        /* HN_ATTR_ENUM: "a|b|c" */
    const char *doc;
} hn_attr_spec;

typedef struct hn_emit hn_emit;

typedef struct hn_op_def {
    const char *name;
    const char *summary;        /* one line, for docs/spec.md and `hepnc ops` */
    const char *weights;        /* parameter names it reads, for the docs ("" when none) */
    const hn_attr_spec *attrs;
    int nattrs;
    /* Primitive ops: the output shape from the inputs and attributes; declares parameters. */
    int (*infer)(hn_graph *g, hn_node *n, hn_shape *out);
    /* Composite ops: expands node `n` into primitive nodes; returns the output tensor or -1. */
    int (*lower)(hn_graph *g, int n);
    /* Writes the body of the node's kernel function. */
    void (*emit)(hn_emit *e, const hn_node *n);
    /* Multiply-accumulates (or comparable operations) per event, set axes at their max. */
    long (*macs)(const hn_graph *g, const hn_node *n);
    /* Training (compiler/emit_train.c; the names a body may use are listed in emit.h). */
    /* The training-mode forward when it differs from `emit` (batch statistics, all slots); NULL: emit. */
    void (*emit_train)(hn_emit *e, const hn_node *n);
    /* The backward rule: writes dx<k> (when not NULL) and accumulates into dP. NULL: not differentiable. */
    void (*emit_backward)(hn_emit *e, const hn_node *n);
    /* Floats of saved state per event (returned) and per batch (*fixed) the two above share; NULL: none. */
    long (*train_state)(const hn_graph *g, const hn_node *n, long *fixed);
    /* 1: the training forward writes every slot of a set output (padding included), so the gradient of
     * its padded rows is meaningful; 0: padded rows are constants and their gradient is dropped. */
    int all_slots;
    /* Bit k set: input k carries no gradient (EdgeConv's kNN coordinates: indices are not differentiable). */
    unsigned no_grad_inputs;
} hn_op_def;

#define HN_OP_DECL(name) extern const hn_op_def hn_op_def_##name;
HN_OP_LIST(HN_OP_DECL)
#undef HN_OP_DECL

const hn_op_def *hn_op(int op);
int hn_op_find(const char *name);           /* -1 when unknown */
const char *const *hn_op_names(void);       /* HN_NUM_OPS names, for "did you mean" */

/* Attribute access for op implementations (keys must exist in the op's schema). */
const hn_attr_val *hn_attr(const hn_node *n, const char *key);
long hn_attr_int(const hn_node *n, const char *key);
double hn_attr_float(const hn_node *n, const char *key);
const char *hn_attr_str(const hn_node *n, const char *key);

/* Shape rules shared by several ops. */
const hn_shape *hn_in_shape(const hn_graph *g, const hn_node *n, int k);
int hn_last_dim(const hn_shape *s);
/* The 4-vector input (px, py, pz, E) of the set input[0] belongs to; -1 with an error naming 'in' when it has none. */
int hn_set_vectors(const hn_graph *g, const hn_node *n);
/* Declares parameter "<node>.<suffix>" of the given shape and attaches it to the node. */
int hn_node_param(hn_graph *g, hn_node *n, const char *suffix, int rank, int64_t d0, int64_t d1);

/* sm_interaction's seven flag columns, mode (0 ids, 1 const, 2 running) and constants (alpha_s, alpha,
 * mu0, g_z), for the CUDA emitter; -1 when a flag is missing. */
int hn_sm_interaction_params(const hn_graph *g, const hn_node *n, int *flags, int *mode, double *consts);

#endif
