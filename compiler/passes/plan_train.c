/* plan_train.c — the memory plan of a training step.
 *
 * The backward needs what the forward computed, so no activation is reused: every intermediate keeps its
 * own region for the whole step. A gradient lives only from its first writer's backward (the last of its
 * consumers in graph order; the loss for the logits) to its producer's backward, so gradients whose lives
 * do not overlap share floats (first fit, in order of birth); each gradient's region is zeroed just
 * before its first writer's backward (grad_zero_at), as the whole region used to be at the step's start.
 * Per event, the workspace holds, in this order,
 *   activations   every tensor the loss depends on (the logits included; a softmax output is not computed)
 *   gradients     ∂loss/∂t for every tensor that depends on a parameter and that the loss depends on,
 *                 shared as above
 *   accumulators  the largest gradient, once per input of the rule with most inputs whose gradient adds to
 *                 an earlier one (tensors with several consumers)
 *   node state    what a backward rule needs besides inputs and output (op train_state)
 * and after batch × those, the per-batch state (BN batch statistics). Sizes are rounded to 16 floats.
 * The loss reads the output named "logits", else the first output that is not a softmax. */
#include <stdlib.h>
#include <string.h>

#include "../diag.h"
#include "../ops.h"
#include "passes.h"

static long padded(long floats) { return (floats + 15) / 16 * 16; }

static int find_logits(const hn_graph *g)
{
    for (int o = 0; o < g->noutputs; ++o)
        if (!strcmp(g->output_names[o], "logits")) return g->outputs[o];
    for (int o = 0; o < g->noutputs; ++o) {
        int p = g->tensors[g->outputs[o]].producer;
        if (p < 0 || g->nodes[p].op != HN_OP_softmax) return g->outputs[o];
    }
    return -1;
}

static int has_trainable_param(const hn_graph *g, const hn_node *n)
{
    for (int k = 0; k < n->nparam; ++k)
        if (g->params[n->param[k]].from_file && !g->params[n->param[k]].frozen) return 1;
    return 0;
}

/* requires_grad forward, on_loss_path backward from the logits. */
static void mark(hn_graph *g)
{
    for (int t = 0; t < g->ntensors; ++t) g->tensors[t].requires_grad = g->tensors[t].on_loss_path = 0;
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        int rg = has_trainable_param(g, n);
        for (int k = 0; k < n->nin; ++k) rg |= g->tensors[n->in[k]].requires_grad;
        g->tensors[n->out].requires_grad = rg;
    }
    g->tensors[g->train_logits].on_loss_path = 1;
    for (int i = g->nnodes - 1; i >= 0; --i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead || !g->tensors[n->out].on_loss_path) continue;
        for (int k = 0; k < n->nin; ++k) g->tensors[n->in[k]].on_loss_path = 1;
    }
}

int hn_train_runs_backward(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *o = &g->tensors[n->out];
    return !n->dead && o->on_loss_path && o->requires_grad && o->grad_offset >= 0;
}

int hn_train_grad_flows(const hn_graph *g, const hn_node *n, int k)
{
    return g->tensors[n->in[k]].grad_offset >= 0 && !(hn_op(n->op)->no_grad_inputs >> k & 1u);
}

/* How many inputs of one backward rule at most receive a gradient that must be added to an earlier
 * one (each needs its own accumulator). Mirrors emit_train.c's reverse walk. */
static int max_accumulators(const hn_graph *g)
{
    char *written = calloc((size_t)g->ntensors + 1, 1);
    int most = 1;
    for (int i = g->nnodes - 1; i >= 0 && written; --i) {
        const hn_node *n = &g->nodes[i];
        if (!hn_train_runs_backward(g, n)) continue;
        int count = 0;
        for (int k = 0; k < n->nin; ++k) count += hn_train_grad_flows(g, n, k) && written[n->in[k]];
        if (count > most) most = count;
        for (int k = 0; k < n->nin; ++k)
            if (hn_train_grad_flows(g, n, k)) written[n->in[k]] = 1;
    }
    free(written);
    return most;
}


/* The gradients' lives, in node indices: from born[t] (its first writer; nnodes for the logits, which the
 * loss writes before any backward) down to its producer; then first-fit offsets, in order of birth. */
static long share_gradients(hn_graph *g)
{
    int nt = g->ntensors;
    int *born = malloc(sizeof(int) * (size_t)(nt + 1)), *order = malloc(sizeof(int) * (size_t)(nt + 1));
    long *size = malloc(sizeof(long) * (size_t)(nt + 1));
    if (!born || !order || !size) { free(born); free(order); free(size); return -1; }
    int n_order = 0;
    for (int t = 0; t < nt; ++t) {
        hn_tensor *x = &g->tensors[t];
        if (x->grad_offset < 0) continue;
        born[t] = t == g->train_logits ? g->nnodes : x->producer;
        for (int i = x->producer + 1; i < g->nnodes; ++i) {
            const hn_node *c = &g->nodes[i];
            if (!hn_train_runs_backward(g, c)) continue;
            for (int k = 0; k < c->nin; ++k)
                if (c->in[k] == t && hn_train_grad_flows(g, c, k) && i > born[t]) born[t] = i;
        }
        x->grad_zero_at = t == g->train_logits ? -1 : born[t];
        size[t] = padded(hn_shape_elems(&x->shape));
        int j = n_order++;   /* insertion: born later (in backward order: a larger node index) first */
        while (j > 0 && born[order[j - 1]] < born[t]) { order[j] = order[j - 1]; --j; }
        order[j] = t;
    }
    long total = 0;
    for (int a = 0; a < n_order; ++a) {
        int t = order[a];
        long at = 0;
        for (int moved = 1; moved;) {   /* the lowest offset clear of every placed gradient alive with it */
            moved = 0;
            for (int b = 0; b < a; ++b) {
                int u = order[b];
                int overlap_in_time = g->tensors[u].producer <= born[t] && g->tensors[t].producer <= born[u];
                long u0 = g->tensors[u].grad_offset, u1 = u0 + size[u];
                if (overlap_in_time && at < u1 && u0 < at + size[t]) { at = u1; moved = 1; }
            }
        }
        g->tensors[t].grad_offset = at;
        if (at + size[t] > total) total = at + size[t];
    }
    free(born);
    free(order);
    free(size);
    return total;
}

int hn_pass_plan_train(hn_graph *g)
{
    g->train_logits = find_logits(g);
    if (g->train_logits < 0) return hn_error_plain("%s: error: no output for a loss to read (every output is a softmax)",
                                                   g->spec_path ? g->spec_path : g->name);
    mark(g);
    long act = 0, grad = 0, widest = 0, state = 0, fixed = 0;
    for (int t = 0; t < g->ntensors; ++t) {
        hn_tensor *x = &g->tensors[t];
        x->offset = x->grad_offset = -1;
        x->grad_zero_at = -1;
        if (x->role != HN_T_ACT || x->producer < 0 || g->nodes[x->producer].dead || !x->on_loss_path) continue;
        long size = padded(hn_shape_elems(&x->shape));
        x->offset = act;
        act += size;
        if (x->requires_grad && x->on_loss_path) {
            x->grad_offset = grad;
            grad += size;
            if (size > widest) widest = size;
        }
    }
    for (int i = 0; i < g->nnodes; ++i) {
        hn_node *n = &g->nodes[i];
        n->state_offset = n->fixed_offset = -1;
        const hn_op_def *op = hn_op(n->op);
        if (n->dead || !op->train_state) continue;
        long f = 0, s = op->train_state(g, n, &f);
        if (s > 0) { n->state_offset = state; state += padded(s); }
        if (f > 0) { n->fixed_offset = fixed; fixed += padded(f); }
    }
    if ((grad = share_gradients(g)) < 0) return hn_error_plain("%s: error: out of memory planning the training step", g->name);
    g->train_act_floats = act;
    g->train_grad_floats = grad;
    g->train_tmp_floats = widest * max_accumulators(g);
    g->train_acc_floats = widest;
    g->train_state_floats = state;
    g->train_fixed_floats = fixed;
    return 0;
}

long hn_train_event_floats(const hn_graph *g)
{
    return g->train_act_floats + g->train_grad_floats + g->train_tmp_floats + g->train_state_floats +
           hn_shape_elems(&g->tensors[g->train_logits].shape);   /* BCE's one-hot targets, after the state */
}
