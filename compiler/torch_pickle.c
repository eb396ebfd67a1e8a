/* torch_pickle.c — see torch_pickle.h. */
#include "torch_pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hn_pickle {
    hn_pobj **all;          /* every object allocated, freed together */
    int nall, capall;
    hn_pobj *root;
};

typedef struct vm {
    hn_pickle *p;
    const unsigned char *d;
    size_t len, pos, op_at;
    const char *what;
    char *err;
    size_t errlen;
    hn_pobj **stack;
    int nstack, capstack;
    int *marks;
    int nmarks, capmarks;
    hn_pobj **memo;
    int64_t nmemo;
    int failed;
} vm;

static int fail(vm *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(vm *v, const char *fmt, ...)
{
    if (v->failed) return -1;
    v->failed = 1;
    if (!v->err || !v->errlen) return -1;
    int k = snprintf(v->err, v->errlen, "%s: ", v->what);
    if (k < 0 || (size_t)k >= v->errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err + k, v->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

static int grow(void **ptr, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 0;
    int c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *q = realloc(*ptr, (size_t)c * elem);
    if (!q) return -1;
    *ptr = q;
    *cap = c;
    return 0;
}

static hn_pobj *obj(vm *v, hn_pkind kind)
{
    hn_pickle *p = v->p;
    if (grow((void **)&p->all, &p->capall, p->nall + 1, sizeof *p->all)) { fail(v, "out of memory"); return NULL; }
    hn_pobj *o = calloc(1, sizeof *o);
    if (!o) { fail(v, "out of memory"); return NULL; }
    o->kind = kind;
    p->all[p->nall++] = o;
    return o;
}

static int add_item(vm *v, hn_pobj *o, hn_pobj *x)
{
    if (grow((void **)&o->items, &o->cap, o->n + 1, sizeof *o->items)) return fail(v, "out of memory");
    o->items[o->n++] = x;
    return 0;
}

static int push(vm *v, hn_pobj *o)
{
    if (!o) return -1;
    if (grow((void **)&v->stack, &v->capstack, v->nstack + 1, sizeof *v->stack)) return fail(v, "out of memory");
    v->stack[v->nstack++] = o;
    return 0;
}

static const char *opname(int op)
{
    switch (op) {
    case 'R': return "REDUCE";
    case 'b': return "BUILD";
    case 'Q': return "BINPERSID";
    case 's': return "SETITEM";
    case 'u': return "SETITEMS";
    case 'a': return "APPEND";
    case 'e': return "APPENDS";
    case 't': return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x81: return "NEWOBJ";
    case 0x93: return "STACK_GLOBAL";
    default: return "opcode";
    }
}

static hn_pobj *pop(vm *v)
{
    int floor = v->nmarks ? v->marks[v->nmarks - 1] : 0;
    if (v->nstack <= floor) {
        fail(v, "pickle stack underflow at offset %zu (%s)", v->op_at, opname(v->d[v->op_at]));
        return NULL;
    }
    return v->stack[--v->nstack];
}

static hn_pobj *top(vm *v)
{
    int floor = v->nmarks ? v->marks[v->nmarks - 1] : 0;
    if (v->nstack <= floor) {
        fail(v, "pickle stack underflow at offset %zu (%s)", v->op_at, opname(v->d[v->op_at]));
        return NULL;
    }
    return v->stack[v->nstack - 1];
}

/* Pops to the last MARK; the popped objects are stack[*from .. nstack_before). */
static int pop_mark(vm *v, int *from, int *count)
{
    if (!v->nmarks) return fail(v, "%s at offset %zu without a MARK", opname(v->d[v->op_at]), v->op_at);
    *from = v->marks[--v->nmarks];
    *count = v->nstack - *from;
    v->nstack = *from;
    return 0;
}

static int need(vm *v, size_t n)
{
    if (v->len - v->pos < n)
        return fail(v, "truncated pickle: %zu bytes needed at offset %zu, %zu left", n, v->pos, v->len - v->pos);
    return 0;
}

static uint64_t le(const unsigned char *b, int n)
{
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; --i) x = x << 8 | b[i];
    return x;
}

static int memo_put(vm *v, int64_t idx, hn_pobj *o)
{
    if (idx < 0 || idx > 100000000) return fail(v, "memo index %lld out of range at offset %zu", (long long)idx, v->op_at);
    if (idx >= v->nmemo) {
        int64_t n = v->nmemo ? v->nmemo : 64;
        while (n <= idx) n *= 2;
        hn_pobj **q = realloc(v->memo, (size_t)n * sizeof *q);
        if (!q) return fail(v, "out of memory");
        memset(q + v->nmemo, 0, (size_t)(n - v->nmemo) * sizeof *q);
        v->memo = q;
        v->nmemo = n;
    }
    v->memo[idx] = o;
    return 0;
}

static int memo_get(vm *v, int64_t idx)
{
    if (idx < 0 || idx >= v->nmemo || !v->memo[idx])
        return fail(v, "memo index %lld read before it was stored, at offset %zu", (long long)idx, v->op_at);
    return push(v, v->memo[idx]);
}

static hn_pobj *string(vm *v, hn_pkind kind, size_t n)
{
    if (need(v, n)) return NULL;
    hn_pobj *o = obj(v, kind);
    if (!o) return NULL;
    o->s = malloc(n + 1);
    if (!o->s) { fail(v, "out of memory"); return NULL; }
    memcpy(o->s, v->d + v->pos, n);
    o->s[n] = 0;
    o->slen = n;
    v->pos += n;
    return o;
}

/* A text line (GLOBAL, PUT, GET): returns a malloc'ed copy without the newline. */
static char *line(vm *v)
{
    const unsigned char *nl = memchr(v->d + v->pos, '\n', v->len - v->pos);
    if (!nl) { fail(v, "truncated pickle: unterminated line at offset %zu", v->pos); return NULL; }
    size_t n = (size_t)(nl - (v->d + v->pos));
    char *s = malloc(n + 1);
    if (!s) { fail(v, "out of memory"); return NULL; }
    memcpy(s, v->d + v->pos, n);
    s[n] = 0;
    v->pos += n + 1;
    return s;
}

static int make_tuple(vm *v, hn_pkind kind, hn_pobj **items, int n)
{
    hn_pobj *t = obj(v, kind);
    if (!t) return -1;
    for (int i = 0; i < n; ++i)
        if (add_item(v, t, items[i])) return -1;
    return push(v, t);
}

static int set_items(vm *v, hn_pobj *d, hn_pobj **kv, int n)
{
    if (d->kind != HN_PK_DICT && d->kind != HN_PK_CALL)
        return fail(v, "SETITEM(S) on a non-dict at offset %zu", v->op_at);
    if (n % 2) return fail(v, "SETITEMS with an odd number of objects at offset %zu", v->op_at);
    for (int i = 0; i < n; ++i)
        if (add_item(v, d, kv[i])) return -1;
    return 0;
}

static int step(vm *v, int *stop)
{
    v->op_at = v->pos;
    if (need(v, 1)) return -1;
    int op = v->d[v->pos++];
    hn_pobj *o, *a, *b;
    int from, n;
    switch (op) {
    case 0x80: /* PROTO */
        if (need(v, 1)) return -1;
        if (v->d[v->pos] > 5) return fail(v, "pickle protocol %d is not supported", v->d[v->pos]);
        v->pos += 1;
        return 0;
    case 0x95: /* FRAME */
        if (need(v, 8)) return -1;
        v->pos += 8;
        return 0;
    case '.': /* STOP */
        *stop = 1;
        return 0;
    case '(': /* MARK */
        if (grow((void **)&v->marks, &v->capmarks, v->nmarks + 1, sizeof *v->marks)) return fail(v, "out of memory");
        v->marks[v->nmarks++] = v->nstack;
        return 0;
    case 'N': return push(v, obj(v, HN_PK_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        if (!(o = obj(v, HN_PK_BOOL))) return -1;
        o->i = op == 0x88;
        return push(v, o);
    case 'J': case 'K': case 'M': { /* BININT, BININT1, BININT2 */
        int w = op == 'J' ? 4 : op == 'K' ? 1 : 2;
        if (need(v, (size_t)w) || !(o = obj(v, HN_PK_INT))) return -1;
        uint64_t x = le(v->d + v->pos, w);
        o->i = op == 'J' ? (int64_t)(int32_t)(uint32_t)x : (int64_t)x;
        v->pos += (size_t)w;
        return push(v, o);
    }
    case 0x8a: case 0x8b: { /* LONG1, LONG4 */
        int w = op == 0x8a ? 1 : 4;
        if (need(v, (size_t)w)) return -1;
        uint64_t nb = le(v->d + v->pos, w);
        v->pos += (size_t)w;
        if (need(v, nb)) return -1;
        if (nb > 8) return fail(v, "integer of %llu bytes at offset %zu does not fit 64 bits", (unsigned long long)nb, v->op_at);
        if (!(o = obj(v, HN_PK_INT))) return -1;
        uint64_t x = nb ? le(v->d + v->pos, (int)nb) : 0;
        if (nb && nb < 8 && (v->d[v->pos + nb - 1] & 0x80)) x |= ~(uint64_t)0 << (8 * nb);   /* sign-extend */
        o->i = (int64_t)x;
        v->pos += nb;
        return push(v, o);
    }
    case 'G': { /* BINFLOAT, big-endian */
        if (need(v, 8) || !(o = obj(v, HN_PK_FLOAT))) return -1;
        uint64_t x = 0;
        for (int i = 0; i < 8; ++i) x = x << 8 | v->d[v->pos + i];
        memcpy(&o->f, &x, 8);
        v->pos += 8;
        return push(v, o);
    }
    case 'X': case 0x8c: case 0x8d: case 'T': case 'U': case 'B': case 'C': case 0x8e: {
        int w = (op == 0x8c || op == 'U' || op == 'C') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
        if (need(v, (size_t)w)) return -1;
        uint64_t len = le(v->d + v->pos, w);
        v->pos += (size_t)w;
        hn_pkind k = (op == 'B' || op == 'C' || op == 0x8e) ? HN_PK_BYTES : HN_PK_STR;
        return push(v, string(v, k, len));
    }
    case 'c': { /* GLOBAL module\nname\n */
        if (!(o = obj(v, HN_PK_GLOBAL))) return -1;
        if (!(o->s = line(v)) || !(o->name = line(v))) return -1;
        return push(v, o);
    }
    case 0x93: /* STACK_GLOBAL */
        if (!(b = pop(v)) || !(a = pop(v))) return -1;
        if (a->kind != HN_PK_STR || b->kind != HN_PK_STR) return fail(v, "STACK_GLOBAL of non-strings at offset %zu", v->op_at);
        if (!(o = obj(v, HN_PK_GLOBAL))) return -1;
        o->s = strdup(a->s);
        o->name = strdup(b->s);
        if (!o->s || !o->name) return fail(v, "out of memory");
        return push(v, o);
    case 'q': case 'r': { /* BINPUT, LONG_BINPUT */
        int w = op == 'q' ? 1 : 4;
        if (need(v, (size_t)w) || !(o = top(v))) return -1;
        int64_t idx = (int64_t)le(v->d + v->pos, w);
        v->pos += (size_t)w;
        return memo_put(v, idx, o);
    }
    case 0x94: { /* MEMOIZE */
        if (!(o = top(v))) return -1;
        int64_t idx = 0;
        while (idx < v->nmemo && v->memo[idx]) ++idx;
        return memo_put(v, idx, o);
    }
    case 'p': case 'g': { /* PUT, GET (text) */
        char *s = line(v);
        if (!s) return -1;
        int64_t idx = strtoll(s, NULL, 10);
        free(s);
        if (op == 'g') return memo_get(v, idx);
        if (!(o = top(v))) return -1;
        return memo_put(v, idx, o);
    }
    case 'h': case 'j': { /* BINGET, LONG_BINGET */
        int w = op == 'h' ? 1 : 4;
        if (need(v, (size_t)w)) return -1;
        int64_t idx = (int64_t)le(v->d + v->pos, w);
        v->pos += (size_t)w;
        return memo_get(v, idx);
    }
    case '}': return push(v, obj(v, HN_PK_DICT));
    case ']': return push(v, obj(v, HN_PK_LIST));
    case ')': return make_tuple(v, HN_PK_TUPLE, NULL, 0);
    case 't': case 'l': /* TUPLE, LIST */
        if (pop_mark(v, &from, &n)) return -1;
        return make_tuple(v, op == 't' ? HN_PK_TUPLE : HN_PK_LIST, v->stack + from, n);
    case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
        int k = op - 0x84;
        hn_pobj *it[3];
        for (int i = k - 1; i >= 0; --i)
            if (!(it[i] = pop(v))) return -1;
        return make_tuple(v, HN_PK_TUPLE, it, k);
    }
    case 'd': /* DICT */
        if (pop_mark(v, &from, &n) || !(o = obj(v, HN_PK_DICT))) return -1;
        if (set_items(v, o, v->stack + from, n)) return -1;
        return push(v, o);
    case 's': /* SETITEM */
        if (!(b = pop(v)) || !(a = pop(v)) || !(o = top(v))) return -1;
        {
            hn_pobj *kv[2] = { a, b };
            return set_items(v, o, kv, 2);
        }
    case 'u': /* SETITEMS */
        if (pop_mark(v, &from, &n) || !(o = top(v))) return -1;
        return set_items(v, o, v->stack + from, n);
    case 'a': /* APPEND */
        if (!(b = pop(v)) || !(o = top(v))) return -1;
        if (o->kind != HN_PK_LIST) return fail(v, "APPEND to a non-list at offset %zu", v->op_at);
        return add_item(v, o, b);
    case 'e': /* APPENDS */
        if (pop_mark(v, &from, &n) || !(o = top(v))) return -1;
        if (o->kind != HN_PK_LIST) return fail(v, "APPENDS to a non-list at offset %zu", v->op_at);
        for (int i = 0; i < n; ++i)
            if (add_item(v, o, v->stack[from + i])) return -1;
        return 0;
    case 'Q': /* BINPERSID */
        if (!(a = pop(v)) || !(o = obj(v, HN_PK_PERSID))) return -1;
        o->args = a;
        return push(v, o);
    case 'R': case 0x81: /* REDUCE, NEWOBJ */
        if (!(b = pop(v)) || !(a = pop(v)) || !(o = obj(v, HN_PK_CALL))) return -1;
        if (b->kind != HN_PK_TUPLE) return fail(v, "%s with non-tuple arguments at offset %zu", opname(op), v->op_at);
        o->callable = a;
        o->args = b;
        return push(v, o);
    case 'b': /* BUILD */
        if (!(a = pop(v)) || !(o = top(v))) return -1;
        o->state = a;
        return 0;
    case '0': /* POP */
        return pop(v) ? 0 : -1;
    case '1': /* POP_MARK */
        return pop_mark(v, &from, &n);
    case '2': /* DUP */
        if (!(o = top(v))) return -1;
        return push(v, o);
    default:
        if (op >= 0x20 && op < 0x7f)
            return fail(v, "unsupported pickle opcode 0x%02x ('%c') at offset %zu", op, op, v->op_at);
        return fail(v, "unsupported pickle opcode 0x%02x at offset %zu", op, v->op_at);
    }
}

hn_pickle *hn_pickle_parse(const unsigned char *data, size_t len, const char *what, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    vm v = { .d = data, .len = len, .what = what ? what : "pickle", .err = err, .errlen = errlen };
    v.p = calloc(1, sizeof *v.p);
    if (!v.p) {
        fail(&v, "out of memory");
        return NULL;
    }
    int stop = 0;
    while (!stop)
        if (step(&v, &stop)) break;
    if (stop) {
        if (v.nstack != 1) fail(&v, "pickle ends with %d objects on the stack, not 1", v.nstack);
        else v.p->root = v.stack[0];
    }
    free(v.stack);
    free(v.marks);
    free(v.memo);
    if (v.failed) {
        hn_pickle_free(v.p);
        return NULL;
    }
    return v.p;
}

const hn_pobj *hn_pickle_root(const hn_pickle *p) { return p ? p->root : NULL; }

void hn_pickle_free(hn_pickle *p)
{
    if (!p) return;
    for (int i = 0; i < p->nall; ++i) {
        free(p->all[i]->s);
        free(p->all[i]->name);
        free(p->all[i]->items);
        free(p->all[i]);
    }
    free(p->all);
    free(p);
}

int hn_pobj_is_global(const hn_pobj *o, const char *module, const char *name)
{
    return o && o->kind == HN_PK_GLOBAL && !strcmp(o->s, module) && !strcmp(o->name, name);
}

hn_pobj *const *hn_pobj_dict_items(const hn_pobj *o, int *n)
{
    *n = 0;
    if (!o || (o->kind != HN_PK_DICT && o->kind != HN_PK_CALL)) return NULL;
    *n = o->n / 2;
    return o->items;
}
