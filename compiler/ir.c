/* ir.c — graph construction helpers and the stable text dump. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "topology.h"

#define GROW(arr, n, cap)                                                        \
    do {                                                                         \
        if ((n) == (cap)) {                                                      \
            int newcap = (cap) ? 2 * (cap) : 16;                                 \
            void *p = realloc((arr), sizeof *(arr) * (size_t)newcap);            \
            if (!p) { fputs("hepnc: out of memory\n", stderr); exit(1); }        \
            (arr) = p;                                                           \
            (cap) = newcap;                                                      \
        }                                                                        \
    } while (0)

void hn_graph_init(hn_graph *g, const char *name)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->train_logits = -1;
}

void hn_graph_free(hn_graph *g)
{
    if (g->topology) hn_topology_free(g->topology);
    free(g->topology);
    free(g->topology_path);
    free(g->tensors);
    free(g->nodes);
    free(g->params);
    free(g->folds);
    memset(g, 0, sizeof *g);
}

int hn_graph_add_tensor(hn_graph *g, const char *name, hn_shape shape, hn_loc loc)
{
    GROW(g->tensors, g->ntensors, g->cap_tensors);
    hn_tensor *t = &g->tensors[g->ntensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->role = HN_T_ACT;
    t->shape = shape;
    t->loc = loc;
    t->producer = t->input = t->output = -1;
    t->first_use = t->last_use = -1;
    t->offset = -1;
    t->grad_offset = -1;
    t->grad_zero_at = -1;
    t->vectors_of = -1;
    t->standardized = -1;
    t->pairs_of = -1;
    return g->ntensors++;
}

int hn_graph_add_node(hn_graph *g, int op, const char *name, hn_loc loc)
{
    GROW(g->nodes, g->nnodes, g->cap_nodes);
    hn_node *n = &g->nodes[g->nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->loc = loc;
    n->out = -1;
    n->fused_from = -1;
    n->state_offset = n->fixed_offset = -1;
    return g->nnodes++;
}

int hn_graph_add_param(hn_graph *g, const char *name, int rank, const int64_t *dim, int from_file)
{
    GROW(g->params, g->nparams, g->cap_params);
    hn_param *p = &g->params[g->nparams];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->rank = rank;
    p->size = 1;
    for (int i = 0; i < rank; ++i) {
        p->dim[i] = dim[i];
        p->size *= dim[i];
    }
    p->from_file = from_file;
    p->offset = g->param_floats;
    g->param_floats += (p->size + 15) / 16 * 16;     /* 64-byte aligned blocks */
    return g->nparams++;
}

int hn_graph_add_fold(hn_graph *g, const hn_fold *f)
{
    GROW(g->folds, g->nfolds, g->cap_folds);
    g->folds[g->nfolds] = *f;
    return g->nfolds++;
}

int hn_graph_find_tensor(const hn_graph *g, const char *name)
{
    for (int i = 0; i < g->ntensors; ++i)
        if (strcmp(g->tensors[i].name, name) == 0)
            return i;
    return -1;
}

int hn_graph_consumers(const hn_graph *g, int tensor, int *first_consumer)
{
    int count = 0;
    if (first_consumer) *first_consumer = -1;
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->nin; ++k)
            if (n->in[k] == tensor) {
                if (count == 0 && first_consumer) *first_consumer = i;
                ++count;
                break;
            }
    }
    if (g->tensors[tensor].output >= 0) ++count;   /* the caller reads it too */
    return count;
}

long hn_shape_elems(const hn_shape *s)
{
    long n = 1;
    for (int i = 0; i < s->rank; ++i) n *= s->dim[i];
    return n;
}

long hn_shape_row_elems(const hn_shape *s)
{
    long n = 1;
    for (int i = s->nset; i < s->rank; ++i) n *= s->dim[i];
    return n;
}

void hn_shape_print(FILE *f, const hn_shape *s, const hn_graph *g)
{
    fputc('[', f);
    for (int i = 0; i < s->rank; ++i) {
        if (i) fputs(", ", f);
        if (i == 0 && s->lead)
            fprintf(f, "%d+n(%s)<=%d", s->lead, g->tensors[g->inputs[s->set]].name, s->dim[i]);
        else if (i < s->nset)
            fprintf(f, "n(%s)<=%d", g->tensors[g->inputs[s->set]].name, s->dim[i]);
        else
            fprintf(f, "%d", s->dim[i]);
    }
    fputc(']', f);
}

static void dump_attrs(FILE *f, const hn_node *n)
{
    const hn_op_def *op = hn_op(n->op);
    for (int a = 0; a < op->nattrs; ++a) {
        const hn_attr_spec *spec = &op->attrs[a];
        const hn_attr_val *v = &n->attr[a];
        if (!v->set || spec->type == HN_ATTR_TENSOR || spec->type == HN_ATTR_TENSORS) continue;
        fprintf(f, " %s=", spec->key);
        switch (spec->type) {
        case HN_ATTR_INT: case HN_ATTR_COUNT: case HN_ATTR_BOOL: fprintf(f, "%ld", v->i); break;
        case HN_ATTR_FLOAT: fprintf(f, "%g", v->f); break;
        case HN_ATTR_INTS:
            for (int k = 0; k < v->nints; ++k) fprintf(f, "%s%d", k ? "," : "", v->ints[k]);
            break;
        case HN_ATTR_FLOATS:
            for (int k = 0; k < v->nfloats; ++k) fprintf(f, "%s%g", k ? "," : "", v->floats[k]);
            break;
        case HN_ATTR_NAMES:             /* stored one per line; one line per node in the dump */
            for (const char *c = v->s; *c; ++c) fputc(*c == '\n' ? ',' : *c, f);
            break;
        default: fputs(v->s, f); break;
        }
    }
}

void hn_graph_dump(FILE *f, const hn_graph *g, const char *after_pass)
{
    fprintf(f, "; hepnc IR of '%s' after %s\n", g->name, after_pass);
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        fprintf(f, "input %%%s ", t->name);
        hn_shape_print(f, &t->shape, g);
        fputc('\n', f);
    }
    for (int i = 0; i < g->nparams; ++i) {
        const hn_param *p = &g->params[i];
        fprintf(f, "param %s [", p->name);
        for (int k = 0; k < p->rank; ++k) fprintf(f, "%s%lld", k ? ", " : "", (long long)p->dim[k]);
        fprintf(f, "]%s @%ld\n", p->from_file ? "" : " derived", p->offset);
    }
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        const hn_tensor *out = &g->tensors[n->out];
        fprintf(f, "%%%s ", out->name);
        hn_shape_print(f, &out->shape, g);
        fprintf(f, " = %s", hn_op(n->op)->name);
        if (n->act) fprintf(f, "+%s", n->act == HN_ACT_RELU ? "relu" : "gelu");
        fputc('(', f);
        for (int k = 0; k < n->nin; ++k)
            fprintf(f, "%s%%%s", k ? ", " : "", g->tensors[n->in[k]].name);
        fputc(')', f);
        dump_attrs(f, n);
        for (int k = 0; k < n->nparam; ++k)
            fprintf(f, "%s%s", k ? ", " : "  params: ", g->params[n->param[k]].name);
        if (out->offset >= 0) fprintf(f, "  ws@%ld", out->offset);
        fprintf(f, "  ; %s:%d", n->loc.src ? n->loc.src->path : "?", n->loc.line);
        if (n->note[0]) fprintf(f, " %s", n->note);
        fputc('\n', f);
    }
    for (int i = 0; i < g->noutputs; ++i)
        fprintf(f, "output %s = %%%s\n", g->output_names[i], g->tensors[g->outputs[i]].name);
    if (g->workspace_floats)
        fprintf(f, "; workspace %ld floats per event, parameters %ld floats\n", g->workspace_floats, g->param_floats);
    if (g->dense_sets) fprintf(f, "; schedule: row-wise layers over every slot of the sets (dense sets)\n");
}
