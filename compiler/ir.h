/* ir.h — the graph IR: typed tensors with static shapes, nodes from the op table, parameters.
 *
 * Shapes are per event: the batch axis is implicit and symbolic. A tensor may have leading "set"
 * axes whose real extent is the run-time particle count n ≤ max of one set input (a jet's
 * constituents); rank-3/4 tensors (pair features, assignment tensors) use two or more set axes. */
#ifndef HN_IR_H
#define HN_IR_H

#include <stdint.h>
#include <stdio.h>

#include "diag.h"

#define HN_MAX_RANK 4
#define HN_NAME 160
#define HN_MAX_ATTRS 20
#define HN_MAX_IN 8
#define HN_MAX_PARAMS 64
#define HN_MAX_LIST 64

typedef struct hn_shape {
    int rank;
    int dim[HN_MAX_RANK];       /* static extent (max for set axes) */
    int nset;                   /* the first nset axes are bounded by the run-time count of set `set` */
    int set;                    /* index of the set input, -1 when nset == 0 */
    int lead;                   /* learnt rows before the set's rows on the first set axis (SPANet's event and
                                 * particle tokens): dim[0] = lead + max and lead + n rows are real */
} hn_shape;

typedef enum { HN_T_INPUT, HN_T_ACT } hn_tensor_role;

typedef struct hn_tensor {
    char name[HN_NAME];
    hn_tensor_role role;
    hn_shape shape;
    hn_loc loc;                 /* where the spec defined it */
    int producer;               /* node index, -1 for inputs */
    int input;                  /* index among inputs, -1 otherwise */
    int output;                 /* index among outputs, -1 otherwise */
    int first_use, last_use;    /* liveness in node order (plan pass) */
    long offset;                /* floats per event into the workspace, -1 when not in it */
    /* training plan (passes/plan_train.c; -1 / 0 outside training) */
    long grad_offset;           /* floats per event into the gradient region, -1 when no gradient is kept;
                                 * gradients never live at the same time share floats */
    int grad_zero_at;           /* the node before whose backward the gradient's region is zeroed (its first
                                 * writer's, else its producer's); -1: the loss writes all of it */
    int requires_grad;          /* depends on a trainable parameter */
    int on_loss_path;           /* the loss depends on it */
    char features[HN_MAX_LIST][48];  /* inputs: feature names */
    int nfeatures;
    int masked;                 /* set input with a run-time count */
    int pairs_of;               /* a pair input: index in g->inputs of the set whose row pairs it describes; else -1 */
    int standardized;           /* inputs with `preprocess`: the standardised tensor layers read; else -1 */
    int vectors_of;             /* a set's 4-vectors (px, py, pz, E): index in g->inputs of the set; else -1 */
} hn_tensor;

typedef struct hn_attr_val {
    int set;                    /* given in the spec or defaulted */
    long i;
    double f;
    char s[512];                /* enum value, or names joined by newlines */
    int ints[HN_MAX_LIST];
    int nints;
    float floats[HN_MAX_LIST];
    int nfloats;
    hn_loc loc;
} hn_attr_val;

typedef struct hn_param {
    char name[HN_NAME];         /* the safetensors name, e.g. "phi.0.weight" */
    int rank;
    int64_t dim[HN_MAX_RANK];
    long offset;                /* floats into the parameter blob */
    long size;
    int from_file;              /* 1: read from the weights file; 0: derived by a fold at load time */
    int frozen;                 /* read from the file but never trained: batchnorm running statistics, SPANet's
                                 * input normaliser and regression statistics (the op that declares it says so) */
} hn_param;

/* A parameter transformation applied at load time (runtime/fold.c does the arithmetic). */
typedef enum {
    HN_FOLD_BATCHNORM,          /* a batchnorm folded into a linear */
    HN_FOLD_HEADSCALE,          /* ParT's per-head scale (and channel permutation) folded into out_proj */
    HN_FOLD_EDGE_SPLIT,         /* EdgeConv's first conv [Wa | Wb] -> [Wa - Wb | Wb] (per point, not per edge) */
} hn_fold_kind;

typedef struct hn_fold {
    hn_fold_kind kind;
    int heads;                  /* HN_FOLD_HEADSCALE: number of heads; bn_gamma holds the scale c[heads] */
    int before;                 /* 1: BN feeds the linear (scale its inputs); 0: BN follows it */
    int bn_mean, bn_var, bn_gamma, bn_beta;   /* param indices */
    float eps;
    int w, b;                   /* the linear's own parameters (b may be -1) */
    int out_w, out_b;           /* derived parameters */
} hn_fold;

typedef struct hn_node {
    int op;
    char name[HN_NAME];
    char layer[HN_NAME];        /* the spec layer it was lowered from */
    hn_loc loc;
    int in[HN_MAX_IN];
    int nin;
    int out;
    hn_attr_val attr[HN_MAX_ATTRS];
    int param[HN_MAX_PARAMS];
    int nparam;
    int act;                    /* fused activation epilogue (HN_ACT_*) */
    int dead;                   /* removed by a pass */
    char param_prefix[HN_NAME]; /* parameters are named "<prefix>.<suffix>" (default: the node's name) */
    int fused_from;             /* node whose computation this one absorbed (pair_embed ← pair_features), or -1 */
    char note[160];             /* what passes did to it, printed in dumps and generated comments */
    long state_offset;          /* training: floats per event of saved state for the backward (-1: none) */
    long fixed_offset;          /* training: floats of per-batch state (BN batch statistics; -1: none) */
} hn_node;

struct hn_topology;

typedef struct hn_graph {
    char name[HN_NAME];
    const char *spec_path;
    struct hn_topology *topology;     /* the spec's SPANet event topology (`topology:`), owned; NULL when none */
    char *topology_path;              /* its path (its locations point at it), owned */
    /* Schedule: row-wise layers (linear, norms, activations, gates) over every slot of a masked set, in
     * blocks of HN_DENSE_EVENTS events, instead of each event's real rows: for short sets (SPANet's ≤ 20
     * jets) one GEMM of hundreds of rows beats per-event GEMMs of a handful. Ops that write only real
     * rows then zero the padded ones, so padding stays defined. Inference only. */
    int dense_sets;
    hn_tensor *tensors; int ntensors, cap_tensors;
    hn_node *nodes;     int nnodes,   cap_nodes;
    hn_param *params;   int nparams,  cap_params;
    hn_fold *folds;     int nfolds,   cap_folds;
    int inputs[16];  int ninputs;     /* tensor indices, in spec order */
    int outputs[16]; int noutputs;    /* tensor indices, in spec order */
    char output_names[16][HN_NAME];
    long param_floats;                /* size of the parameter blob */
    long workspace_floats;            /* per event, from the plan */
    /* the training plan: per-event floats of each region, and the per-batch (fixed) floats */
    long train_act_floats, train_grad_floats, train_tmp_floats, train_state_floats, train_fixed_floats;
    long train_acc_floats;            /* one accumulator (train_tmp_floats holds several) */
    int train_logits;                 /* tensor the loss reads, -1 outside training */
} hn_graph;

enum { HN_ACT_NONE = 0, HN_ACT_RELU = 1, HN_ACT_GELU = 2 };

#define HN_DENSE_EVENTS 32

void hn_graph_init(hn_graph *g, const char *name);
void hn_graph_free(hn_graph *g);
int hn_graph_add_tensor(hn_graph *g, const char *name, hn_shape shape, hn_loc loc);
int hn_graph_add_node(hn_graph *g, int op, const char *name, hn_loc loc);
int hn_graph_add_param(hn_graph *g, const char *name, int rank, const int64_t *dim, int from_file);
int hn_graph_find_tensor(const hn_graph *g, const char *name);
int hn_graph_consumers(const hn_graph *g, int tensor, int *first_consumer);
int hn_graph_add_fold(hn_graph *g, const hn_fold *f);

long hn_shape_elems(const hn_shape *s);        /* per event, set axes at their max */
long hn_shape_row_elems(const hn_shape *s);    /* elements per set row (per event when nset == 0) */
void hn_shape_print(FILE *f, const hn_shape *s, const hn_graph *g);

/* The stable text form of the IR (for --dump and golden files). */
void hn_graph_dump(FILE *f, const hn_graph *g, const char *after_pass);

#endif
