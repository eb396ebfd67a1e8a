/* emit_util.c — small helpers shared by the op emitters (emit.h). */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "ops.h"

void hn_emit_line(hn_emit *e, int indent, const char *fmt, ...)
{
    for (int i = 0; i < indent; ++i) fputs("    ", e->f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(e->f, fmt, ap);
    va_end(ap);
    fputc('\n', e->f);
}

static char *scratch(hn_emit *e)
{
    char *s = e->scratch[e->next_scratch];
    e->next_scratch = (e->next_scratch + 1) % 8;
    return s;
}

const char *hn_emit_param(hn_emit *e, int p)
{
    char *s = scratch(e);
    snprintf(s, 128, "P + %ld", e->g->params[p].offset);
    return s;
}

static void param_decl(hn_emit *e, const char *type, const char *var, const char *base, int p)
{
    const hn_param *q = &e->g->params[p];
    char shape[64] = "";
    for (int k = 0; k < q->rank; ++k) {
        char d[24];
        snprintf(d, sizeof d, "%s%lld", k ? ", " : "", (long long)q->dim[k]);
        strcat(shape, d);
    }
    hn_emit_line(e, 1, "%s*%s = %s + %ld;   /* %s [%s] */", type, var, base, q->offset, q->name, shape);
}

void hn_emit_param_decl(hn_emit *e, const char *var, int p) { param_decl(e, "const float ", var, "P", p); }
void hn_emit_grad_decl(hn_emit *e, const char *var, int p) { param_decl(e, "float ", var, "dP", p); }
void hn_emit_param_mut_decl(hn_emit *e, const char *var, int p) { param_decl(e, "float ", var, "Pw", p); }

const char *hn_emit_rows(hn_emit *e, const hn_tensor *t)
{
    char *s = scratch(e);
    if (t->shape.nset > 0 && e->g->tensors[e->g->inputs[t->shape.set]].masked && t->shape.lead)
        snprintf(s, 128, "(%d + n[b])", t->shape.lead);
    else if (t->shape.nset > 0 && e->g->tensors[e->g->inputs[t->shape.set]].masked)
        snprintf(s, 128, "n[b]");
    else
        snprintf(s, 128, "%d", t->shape.nset > 0 ? t->shape.dim[0] : 1);
    return s;
}

const char *hn_c_float(float x, char buf[48])
{
    if (isinf(x)) {
        snprintf(buf, 48, "%sINFINITY", x < 0 ? "-" : "");
        return buf;
    }
    snprintf(buf, 48, "%.9g", x);
    if (!strpbrk(buf, ".en")) strcat(buf, ".0");
    strcat(buf, "f");
    return buf;
}

const char *hn_c_double(double x, char buf[48])
{
    for (int digits = 15; digits <= 17; ++digits) {     /* the shortest that reads back to exactly x */
        snprintf(buf, 48, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) break;
    }
    if (!strpbrk(buf, ".en")) strcat(buf, ".0");
    return buf;
}

void hn_c_macro_prefix(char *dst, size_t n, const char *name)
{
    size_t k = 0;
    for (; name[k] && k + 1 < n; ++k) dst[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
    if (n) dst[k] = '\0';
}

void hn_c_ident(char *dst, size_t n, const char *name)
{
    size_t i = 0;
    for (; name[i] && i + 1 < n; ++i)
        dst[i] = isalnum((unsigned char)name[i]) ? name[i] : '_';
    dst[i] = '\0';
}

void hn_emit_rows_begin(hn_emit *e, const hn_node *n, hn_rowloop *r)
{
    const hn_graph *g = e->g;
    const hn_tensor *out = &g->tensors[n->out];
    const hn_shape *s = &out->shape;
    long per_row = hn_shape_elems(s) / hn_last_dim(s);        /* rows of the last axis per event */
    int masked = s->nset > 0 && g->tensors[g->inputs[s->set]].masked;
    memset(r, 0, sizeof *r);
    if (!masked) {
        for (int k = 0; k < n->nin; ++k) snprintf(r->x[k], sizeof r->x[k], "x%d", k);
        snprintf(r->y, sizeof r->y, "y");
        snprintf(r->rows, sizeof r->rows, "batch * %ld", per_row);
        r->indent = 1;
        return;
    }
    if (g->dense_sets) {               /* every slot, HN_DENSE_EVENTS events per call (ir.h) */
        for (int k = 0; k < n->nin; ++k)
            snprintf(r->x[k], sizeof r->x[k], "x%d + (size_t)c * %d * %ld", k, HN_DENSE_EVENTS, hn_shape_elems(&g->tensors[n->in[k]].shape));
        snprintf(r->y, sizeof r->y, "y + (size_t)c * %d * %ld", HN_DENSE_EVENTS, hn_shape_elems(s));
        snprintf(r->rows, sizeof r->rows, "hn_k_min(%d, batch - c * %d) * %ld", HN_DENSE_EVENTS, HN_DENSE_EVENTS, per_row);
        r->indent = 2;
        r->looped = 1;
        hn_emit_line(e, 1, "HN_EVENT_LOOP for (int c = 0; c < (batch + %d) / %d; ++c) {   /* every slot of %d events at once */",
                     HN_DENSE_EVENTS - 1, HN_DENSE_EVENTS, HN_DENSE_EVENTS);
        return;
    }
    long rows_per_particle = per_row / s->dim[0];
    for (int k = 0; k < n->nin; ++k)
        snprintf(r->x[k], sizeof r->x[k], "x%d + (size_t)b * %ld", k, hn_shape_elems(&g->tensors[n->in[k]].shape));
    snprintf(r->y, sizeof r->y, "y + (size_t)b * %ld", hn_shape_elems(s));
    char count[32];
    if (s->lead) snprintf(count, sizeof count, "(%d + n[b])", s->lead);
    else snprintf(count, sizeof count, "n[b]");
    if (rows_per_particle == 1)
        snprintf(r->rows, sizeof r->rows, "%s", count);
    else
        snprintf(r->rows, sizeof r->rows, "%s * %ld", count, rows_per_particle);
    r->indent = 2;
    r->looped = 1;
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {   /* each event's real rows only */");
}

void hn_emit_rows_end(hn_emit *e, const hn_rowloop *r)
{
    if (r->looped) hn_emit_line(e, 1, "}");
}

const char *hn_emit_all_rows(hn_emit *e, const hn_tensor *t)
{
    char *s = scratch(e);
    snprintf(s, 128, "batch * %ld", hn_shape_elems(&t->shape) / hn_last_dim(&t->shape));
    return s;
}
