/* passes.h — the pass pipeline over the graph IR. Each pass leaves an IR that hn_pass_check accepts. */
#ifndef HN_PASSES_H
#define HN_PASSES_H

#include <stdio.h>

#include "../ir.h"

int hn_pass_check(hn_graph *g);     /* structural and shape invariants */
int hn_pass_fold(hn_graph *g);      /* batchnorm into a neighbouring linear */
int hn_pass_fuse(hn_graph *g);      /* relu/gelu into the producing linear's epilogue */
int hn_pass_plan(hn_graph *g);      /* liveness and workspace offsets */
int hn_pass_plan_train(hn_graph *g); /* training: loss path, gradients, every tensor kept (plan_train.c) */
/* After hn_pass_plan_train: the training step's workspace floats per event (activations, gradients,
 * accumulators, node state, the loss's targets); train_fixed_floats more per batch. */
long hn_train_event_floats(const hn_graph *g);
/* After hn_pass_plan_train: whether node n's backward runs (its output keeps a gradient), and whether it
 * hands input k a gradient (kept, and not one of the op's no_grad_inputs). The planner and both training
 * emitters decide with these. */
int hn_train_runs_backward(const hn_graph *g, const hn_node *n);
int hn_train_grad_flows(const hn_graph *g, const hn_node *n, int k);

/* Runs the whole pipeline. When dump_after names a pass ("lower", "fold", "fuse", "plan"), the IR
 * after it is printed to `dump`. Returns -1 if a pass fails or its result does not check. */
int hn_run_passes(hn_graph *g, const char *dump_after, FILE *dump);
int hn_pass_known(const char *name);

#endif
