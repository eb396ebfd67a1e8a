/* topology.c — see topology.h and docs/spanet.md.
 *
 * The file is loaded with libyaml's document API (a node tree in which every node keeps its start
 * mark) and walked once, section by section. Upstream (PyYAML + event_info.py) accepts a few shapes
 * that only fail later, or silently drops things; here those are located errors instead (see
 * docs/spanet.md, "Decisions"). The groups' closure and the tables derived from them are
 * topology_groups.c. */
#include "topology.h"
#include "topology_groups.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct ctx {
    hn_topology *t;
    yaml_document_t doc;
    hn_loc group_loc[HN_TOPO_MAX_PARTICLES + 1];   /* where each group was specified; [nparticles] = EVENT */
    const yaml_node_t *target_lists[2][1 + HN_TOPO_MAX_PARTICLES * (1 + HN_TOPO_MAX_PRODUCTS)];
    unsigned char target_given[2][1 + HN_TOPO_MAX_PARTICLES * (1 + HN_TOPO_MAX_PRODUCTS)];
} ctx;

/* ---- YAML node helpers ------------------------------------------------------------------------- */

static const yaml_node_t *node(ctx *c, int id) { return yaml_document_get_node(&c->doc, id); }

static hn_loc at(ctx *c, const yaml_node_t *n)
{
    hn_loc loc = { &c->t->src, n ? (int)n->start_mark.line + 1 : 1, n ? (int)n->start_mark.column + 1 : 1 };
    return loc;
}

static const char *text(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

/* YAML 1.1 null as PyYAML reads it: an empty plain scalar, ~, null, Null, NULL. */
static int is_null(const yaml_node_t *n)
{
    if (!n) return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *s = text(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *kind_name(const yaml_node_t *n)
{
    if (is_null(n)) return "empty value";
    return n->type == YAML_SCALAR_NODE ? "scalar" : n->type == YAML_SEQUENCE_NODE ? "list" : "mapping";
}

/* Where to point for a value: an empty value has no text of its own, so its key is shown instead. */
static hn_loc value_loc(ctx *c, const yaml_node_t *key, const yaml_node_t *value)
{
    return (is_null(value) && key) ? at(c, key) : at(c, value);
}

static int n_items(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE) return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE) return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

static const yaml_node_t *item(ctx *c, const yaml_node_t *seq, int i) { return node(c, seq->data.sequence.items.start[i]); }
static const yaml_node_t *key_at(ctx *c, const yaml_node_t *map, int i) { return node(c, map->data.mapping.pairs.start[i].key); }
static const yaml_node_t *val_at(ctx *c, const yaml_node_t *map, int i) { return node(c, map->data.mapping.pairs.start[i].value); }

/* Requires `n` to be of `type`; `what` names the thing ("INPUTS", "the products of 't1'", …). */
static int expect(ctx *c, const yaml_node_t *key, const yaml_node_t *n, yaml_node_type_t type, const char *what,
                  const char *shape)
{
    if (n && n->type == type && !is_null(n)) return 0;
    return hn_error(value_loc(c, key, n), "%s must be a %s (%s), not %s %s", what,
                    type == YAML_MAPPING_NODE ? "mapping" : type == YAML_SEQUENCE_NODE ? "list" : "scalar", shape,
                    is_null(n) ? "an" : "a", kind_name(n));
}

/* A mapping's keys must be plain names, each given once (PyYAML would keep the last silently). */
static int check_mapping(ctx *c, const yaml_node_t *map)
{
    for (int i = 0; i < n_items(map); ++i) {
        const yaml_node_t *k = key_at(c, map, i);
        if (k->type != YAML_SCALAR_NODE || is_null(k))
            return hn_error(at(c, k), "a key must be a name, not a %s", kind_name(k));
        for (int j = 0; j < i; ++j)
            if (!strcmp(text(key_at(c, map, j)), text(k))) {
                hn_error(at(c, k), "duplicate key '%s'", text(k));
                hn_note(at(c, key_at(c, map, j)), "'%s' was first given here", text(k));
                return -1;
            }
    }
    return 0;
}

/* The value of `key` in a checked mapping (NULL if absent); *key_node gets the key when found. */
static const yaml_node_t *get(ctx *c, const yaml_node_t *map, const char *key, const yaml_node_t **key_node)
{
    for (int i = 0; i < n_items(map); ++i)
        if (!strcmp(text(key_at(c, map, i)), key)) {
            if (key_node) *key_node = key_at(c, map, i);
            return val_at(c, map, i);
        }
    return NULL;
}

/* Copies a scalar name into a fixed buffer: non-empty, at most HN_TOPO_NAME_MAX - 1 bytes, no NUL. */
static int copy_name(ctx *c, const yaml_node_t *n, char *dst, const char *what)
{
    if (!n || n->type != YAML_SCALAR_NODE || is_null(n))
        return hn_error(at(c, n), "%s must be a name, not %s %s", what, is_null(n) ? "an" : "a", kind_name(n));
    size_t len = n->data.scalar.length;
    if (strlen(text(n)) != len) return hn_error(at(c, n), "%s contains a NUL byte", what);
    if (len >= HN_TOPO_NAME_MAX)
        return hn_error(at(c, n), "%s '%.20s…' is longer than %d bytes", what, text(n), HN_TOPO_NAME_MAX - 1);
    memcpy(dst, text(n), len + 1);
    return 0;
}

/* "unknown NAME" with a "did you mean" from the candidates when one is close. */
static int unknown_name(hn_loc loc, const char *name, const char *what, const char *const *cand, int ncand)
{
    const char *near = hn_closest(name, cand, ncand);
    if (near) return hn_error(loc, "'%s' is not %s; did you mean '%s'?", name, what, near);
    hn_error(loc, "'%s' is not %s", name, what);
    if (ncand > 0) {
        fprintf(stderr, "  known:");
        for (int i = 0; i < ncand; ++i) fprintf(stderr, " %s", cand[i]);
        fputc('\n', stderr);
    }
    return -1;
}

/* ---- name tables ------------------------------------------------------------------------------- */

static int particle_index(const hn_topology *t, const char *name)
{
    for (int i = 0; i < t->nparticles; ++i)
        if (!strcmp(t->particles[i].name, name)) return i;
    return -1;
}

static int product_index(const hn_topo_particle *p, const char *name)
{
    for (int i = 0; i < p->nproducts; ++i)
        if (!strcmp(p->products[i].name, name)) return i;
    return -1;
}

static int input_index(const hn_topology *t, const char *name)
{
    for (int i = 0; i < t->ninputs; ++i)
        if (!strcmp(t->inputs[i].name, name)) return i;
    return -1;
}

/* Pointers to the names of the particles (or of one particle's products), for "did you mean". */
static int particle_names(const hn_topology *t, const char **out)
{
    for (int i = 0; i < t->nparticles; ++i) out[i] = t->particles[i].name;
    return t->nparticles;
}

static int product_names(const hn_topo_particle *p, const char **out)
{
    for (int i = 0; i < p->nproducts; ++i) out[i] = p->products[i].name;
    return p->nproducts;
}

/* ---- INPUTS ------------------------------------------------------------------------------------ */

/* Whether lower(hay) contains needle (a lower-case word): Python's `needle in hay.lower()`. */
static int contains_lower(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; ++hay) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == needle[i]) ++i;
        if (i == n) return 1;
    }
    return 0;
}

/* One feature: its option string gives the two booleans by upstream's substring rules. */
static int read_feature(ctx *c, hn_topo_feature *f, const yaml_node_t *key, const yaml_node_t *opt)
{
    if (copy_name(c, key, f->name, "a feature name")) return -1;
    if (!opt || opt->type != YAML_SCALAR_NODE || is_null(opt))
        return hn_error(value_loc(c, key, opt), "feature '%s' needs an option (none, log, normalize or log_normalize), "
                        "not %s %s", f->name, is_null(opt) ? "an" : "a", kind_name(opt));
    const char *o = text(opt);
    f->normalize = contains_lower(o, "normalize") || contains_lower(o, "true");
    f->log_scale = contains_lower(o, "log");
    return 0;
}

/* One input: a non-empty mapping feature → option, in order. */
static int read_input(ctx *c, hn_topo_input_kind kind, const yaml_node_t *key, const yaml_node_t *val)
{
    hn_topology *t = c->t;
    if (t->ninputs == HN_TOPO_MAX_INPUTS)
        return hn_error(at(c, key), "too many inputs (at most %d)", HN_TOPO_MAX_INPUTS);
    hn_topo_input *in = &t->inputs[t->ninputs];
    if (copy_name(c, key, in->name, "an input name")) return -1;
    in->kind = kind;
    in->loc = at(c, key);
    int prev = input_index(t, in->name);
    if (prev >= 0) {
        hn_error(in->loc, "duplicate input '%s'", in->name);
        hn_note(t->inputs[prev].loc, "'%s' was first given here", in->name);
        return -1;
    }
    char what[HN_TOPO_NAME_MAX + 16];
    snprintf(what, sizeof what, "input '%s'", in->name);
    if (expect(c, key, val, YAML_MAPPING_NODE, what, "feature: none|log|normalize|log_normalize") ||
        check_mapping(c, val))
        return -1;
    if (n_items(val) > HN_TOPO_MAX_FEATURES)
        return hn_error(at(c, key_at(c, val, HN_TOPO_MAX_FEATURES)), "input '%s' has too many features (at most %d)",
                        in->name, HN_TOPO_MAX_FEATURES);
    for (int i = 0; i < n_items(val); ++i)
        if (read_feature(c, &in->features[i], key_at(c, val, i), val_at(c, val, i))) return -1;
    in->nfeatures = n_items(val);
    t->ninputs++;
    return 0;
}

/* The kind named by a key under INPUTS (upstream upper-cases it). */
static int input_kind(ctx *c, const yaml_node_t *key, hn_topo_input_kind *kind)
{
    static const char *const kinds[] = { "SEQUENTIAL", "GLOBAL", "RELATIVE" };
    char up[HN_TOPO_NAME_MAX];
    if (copy_name(c, key, up, "an input type")) return -1;
    for (char *s = up; *s; ++s) *s = (char)toupper((unsigned char)*s);
    for (int k = 0; k < 3; ++k)
        if (!strcmp(up, kinds[k])) { *kind = (hn_topo_input_kind)k; return 0; }
    return unknown_name(at(c, key), text(key), "an input type (SEQUENTIAL, GLOBAL or RELATIVE)", kinds, 3);
}

/* Target offsets upstream are indexed by input position, so they only line up when every assignable
 * (SEQUENTIAL or RELATIVE) input comes before the GLOBAL ones. */
static int check_input_order(ctx *c, const yaml_node_t *key)
{
    const hn_topology *t = c->t;
    int first_global = -1, assignable = 0;
    for (int i = 0; i < t->ninputs; ++i) {
        if (t->inputs[i].kind == HN_TOPO_GLOBAL) {
            if (first_global < 0) first_global = i;
            continue;
        }
        assignable++;
        if (first_global >= 0) {
            hn_error(t->inputs[i].loc, "%s input '%s' comes after GLOBAL input '%s'; SPANet's target offsets "
                     "assume every SEQUENTIAL/RELATIVE input comes first: move the GLOBAL block after it",
                     hn_topo_input_kind_name(t->inputs[i].kind), t->inputs[i].name, t->inputs[first_global].name);
            hn_note(t->inputs[first_global].loc, "GLOBAL input '%s' is here", t->inputs[first_global].name);
            return -1;
        }
    }
    if (!assignable)
        return hn_error(at(c, key), "the topology has no SEQUENTIAL input; SPANet needs at least one to assign");
    return 0;
}

/* INPUTS: type blocks in YAML order, each a mapping of inputs (or empty). */
static int read_inputs(ctx *c, const yaml_node_t *key, const yaml_node_t *inputs)
{
    if (expect(c, key, inputs, YAML_MAPPING_NODE, "INPUTS", "SEQUENTIAL: and GLOBAL: blocks") ||
        check_mapping(c, inputs))
        return -1;
    for (int b = 0; b < n_items(inputs); ++b) {
        const yaml_node_t *bkey = key_at(c, inputs, b), *block = val_at(c, inputs, b);
        hn_topo_input_kind kind = HN_TOPO_SEQUENTIAL;
        if (input_kind(c, bkey, &kind)) return -1;
        if (is_null(block)) continue;                            /* `GLOBAL:` with nothing: allowed */
        char what[HN_TOPO_NAME_MAX + 16];
        snprintf(what, sizeof what, "INPUTS/%s", text(bkey));
        if (expect(c, bkey, block, YAML_MAPPING_NODE, what, "input_name: {feature: option}") ||
            check_mapping(c, block))
            return -1;
        for (int i = 0; i < n_items(block); ++i)
            if (read_input(c, kind, key_at(c, block, i), val_at(c, block, i))) return -1;
    }
    return check_input_order(c, key);
}

/* ---- EVENT ------------------------------------------------------------------------------------- */

/* One product: `name` or `name: input_name` (the input resolved to its index; empty = unassociated). */
static int read_product(ctx *c, hn_topo_particle *p, const yaml_node_t *n)
{
    hn_topology *t = c->t;
    hn_topo_product *q = &p->products[p->nproducts];
    const yaml_node_t *name = n, *source = NULL;
    q->source = -1;
    if (n->type == YAML_MAPPING_NODE) {
        if (check_mapping(c, n)) return -1;
        if (n_items(n) != 1)
            return hn_error(at(c, n), "a product of '%s' is a name or one 'product: input_name' pair, not a mapping "
                            "with %d entries", p->name, n_items(n));
        name = key_at(c, n, 0);
        source = val_at(c, n, 0);
    }
    if (copy_name(c, name, q->name, "a product")) return -1;
    q->loc = at(c, name);
    if (!strcmp(q->name, "PARTICLE"))
        return hn_error(q->loc, "a product may not be called PARTICLE (that key names the particle's own "
                        "targets in REGRESSIONS and CLASSIFICATIONS)");
    int prev = product_index(p, q->name);
    if (prev >= 0) {
        hn_error(q->loc, "'%s' is already a product of '%s'", q->name, p->name);
        hn_note(p->products[prev].loc, "first given here");
        return -1;
    }
    if (source && !is_null(source)) {
        char src[HN_TOPO_NAME_MAX];
        if (copy_name(c, source, src, "the input of a product")) return -1;
        const char *cand[HN_TOPO_MAX_INPUTS];
        for (int i = 0; i < t->ninputs; ++i) cand[i] = t->inputs[i].name;
        q->source = input_index(t, src);
        if (q->source < 0) return unknown_name(at(c, source), src, "an input", cand, t->ninputs);
        if (t->inputs[q->source].kind == HN_TOPO_GLOBAL)
            return hn_error(at(c, source), "product '%s' of '%s' names GLOBAL input '%s'; only SEQUENTIAL or "
                            "RELATIVE inputs hold assignable vectors", q->name, p->name, src);
    }
    p->nproducts++;
    return 0;
}

/* One event particle: a non-empty list of products. */
static int read_particle(ctx *c, const yaml_node_t *key, const yaml_node_t *val)
{
    hn_topology *t = c->t;
    if (t->nparticles == HN_TOPO_MAX_PARTICLES)
        return hn_error(at(c, key), "too many event particles (at most %d)", HN_TOPO_MAX_PARTICLES);
    hn_topo_particle *p = &t->particles[t->nparticles];
    if (copy_name(c, key, p->name, "an event particle")) return -1;
    p->loc = at(c, key);
    if (!strcmp(p->name, "EVENT"))
        return hn_error(p->loc, "an event particle may not be called EVENT (that key names the event level in "
                        "PERMUTATIONS, REGRESSIONS and CLASSIFICATIONS)");
    char what[HN_TOPO_NAME_MAX + 32];
    snprintf(what, sizeof what, "the products of '%s'", p->name);
    if (expect(c, key, val, YAML_SEQUENCE_NODE, what, "- product or - product: input_name")) return -1;
    for (int i = 0; i < n_items(val); ++i) {
        if (p->nproducts == HN_TOPO_MAX_PRODUCTS)
            return hn_error(at(c, item(c, val, i)), "'%s' has too many products (at most %d)", p->name,
                            HN_TOPO_MAX_PRODUCTS);
        if (read_product(c, p, item(c, val, i))) return -1;
    }
    if (p->nproducts == 0) return hn_error(at(c, val), "'%s' has no products", p->name);
    t->nparticles++;
    return 0;
}

/* EVENT: particle → products, in order. Duplicate particles are duplicate keys. */
static int read_event(ctx *c, const yaml_node_t *key, const yaml_node_t *event)
{
    if (expect(c, key, event, YAML_MAPPING_NODE, "EVENT", "particle: [products]") || check_mapping(c, event))
        return -1;
    for (int i = 0; i < n_items(event); ++i)
        if (read_particle(c, key_at(c, event, i), val_at(c, event, i))) return -1;
    if (c->t->nparticles == 0) return hn_error(at(c, event), "EVENT lists no particles");
    return 0;
}

/* ---- PERMUTATIONS: generators ------------------------------------------------------------------ */

static int add_generator(ctx *c, hn_topo_group *g, const int *perm, hn_loc loc)
{
    if (g->ngenerators == HN_TOPO_MAX_GENERATORS)
        return hn_error(loc, "too many generators in one group (at most %d after expanding flat lists)",
                        HN_TOPO_MAX_GENERATORS);
    int *gens = realloc(g->generators, sizeof *gens * (size_t)(g->ngenerators + 1) * (size_t)g->degree);
    if (!gens) return hn_error(loc, "out of memory");
    g->generators = gens;
    memcpy(gens + (size_t)g->ngenerators * (size_t)g->degree, perm, sizeof *perm * (size_t)g->degree);
    g->ngenerators++;
    return 0;
}

/* Resolves one name of a group spec to its index among `names` (particles or one particle's products). */
static int resolve(ctx *c, const yaml_node_t *n, const char *const *names, int nnames, const char *what, int *index)
{
    char name[HN_TOPO_NAME_MAX];
    if (copy_name(c, n, name, "a permutation entry")) return -1;
    for (int i = 0; i < nnames; ++i)
        if (!strcmp(names[i], name)) { *index = i; return 0; }
    return unknown_name(at(c, n), name, what, names, nnames);
}

/* A flat list [a, b, c]: the complete symmetric group on those names, as the transpositions
 * (a b), (a c), (b c) in itertools.combinations order, each a separate generator. */
static int flat_spec(ctx *c, hn_topo_group *g, const yaml_node_t *spec, const char *const *names, const char *what)
{
    int idx[HN_TOPO_MAX_PARTICLES], n = n_items(spec);
    if (n > g->degree) return hn_error(at(c, spec), "the list names %d objects but there are only %d", n, g->degree);
    for (int i = 0; i < n; ++i) {
        const yaml_node_t *e = item(c, spec, i);
        if (e->type != YAML_SCALAR_NODE)
            return hn_error(at(c, e), "a permutation list holds either names ([a, b]: all permutations of them) "
                            "or lists of names ([[a, b], [c, d]]: one generator in cycle notation), not both");
        if (resolve(c, e, names, g->degree, what, &idx[i])) return -1;
        for (int j = 0; j < i; ++j)
            if (idx[j] == idx[i]) return hn_error(at(c, e), "'%s' is listed twice in this permutation", text(e));
    }
    int perm[HN_TOPO_MAX_PARTICLES];
    for (int a = 0; a < n; ++a)
        for (int b = a + 1; b < n; ++b) {
            for (int i = 0; i < g->degree; ++i) perm[i] = i;
            perm[idx[a]] = idx[b];
            perm[idx[b]] = idx[a];
            if (add_generator(c, g, perm, at(c, spec))) return -1;
        }
    return 0;
}

/* A list of lists [[a, b, c], [d, e]]: ONE generator, the product of the disjoint cycles
 * a→b→c→a and d→e→d (sympy's Permutation(a, b, c)(d, e)). */
static int cycle_spec(ctx *c, hn_topo_group *g, const yaml_node_t *spec, const char *const *names, const char *what)
{
    int perm[HN_TOPO_MAX_PARTICLES], seen[HN_TOPO_MAX_PARTICLES] = { 0 };
    for (int i = 0; i < g->degree; ++i) perm[i] = i;
    for (int k = 0; k < n_items(spec); ++k) {
        const yaml_node_t *cyc = item(c, spec, k);
        if (cyc->type != YAML_SEQUENCE_NODE || n_items(cyc) == 0)
            return hn_error(at(c, cyc), "in cycle notation [[a, b], [c, d]] every entry is a non-empty list of "
                            "names, not %s %s", is_null(cyc) ? "an" : "a", kind_name(cyc));
        int idx[HN_TOPO_MAX_PARTICLES], n = n_items(cyc);
        if (n > g->degree) return hn_error(at(c, cyc), "the cycle names %d objects but there are only %d", n, g->degree);
        for (int i = 0; i < n; ++i) {
            const yaml_node_t *e = item(c, cyc, i);
            if (resolve(c, e, names, g->degree, what, &idx[i])) return -1;
            if (seen[idx[i]])
                return hn_error(at(c, e), "'%s' appears twice in one generator; its cycles must be disjoint", text(e));
            seen[idx[i]] = 1;
        }
        for (int i = 0; i < n; ++i) perm[idx[i]] = idx[(i + 1) % n];
    }
    return add_generator(c, g, perm, at(c, spec));
}

/* A group's list of specs: `- [a, b]` (flat) or `- [[a, b], [c, d]]` (cycles); empty = no symmetry. */
static int read_group_specs(ctx *c, hn_topo_group *g, const yaml_node_t *key, const yaml_node_t *specs,
                            const char *const *names, const char *what)
{
    if (is_null(specs)) return 0;
    char where[HN_TOPO_NAME_MAX + 32];
    snprintf(where, sizeof where, "PERMUTATIONS/%s", text(key));
    if (expect(c, key, specs, YAML_SEQUENCE_NODE, where, "- [a, b] or - [[a, b], [c, d]]")) return -1;
    for (int s = 0; s < n_items(specs); ++s) {
        const yaml_node_t *spec = item(c, specs, s);
        if (spec->type != YAML_SEQUENCE_NODE || n_items(spec) == 0)
            return hn_error(at(c, spec), "a permutation is a non-empty list: [a, b] (all permutations of a, b) or "
                            "[[a, b], [c, d]] (one generator in cycle notation), not %s %s",
                            is_null(spec) ? "an" : "a", kind_name(spec));
        int rc = item(c, spec, 0)->type == YAML_SEQUENCE_NODE ? cycle_spec(c, g, spec, names, what)
                                                             : flat_spec(c, g, spec, names, what);
        if (rc) return -1;
    }
    return 0;
}

/* PERMUTATIONS: EVENT → group of the particles; <particle> → group of its products. */
static int read_permutations(ctx *c, const yaml_node_t *key, const yaml_node_t *perms)
{
    hn_topology *t = c->t;
    if (is_null(perms)) return 0;
    if (expect(c, key, perms, YAML_MAPPING_NODE, "PERMUTATIONS", "EVENT: or particle: [groups]") ||
        check_mapping(c, perms))
        return -1;
    const char *pnames[HN_TOPO_MAX_PARTICLES + 1];
    int np = particle_names(t, pnames);
    for (int i = 0; i < n_items(perms); ++i) {
        const yaml_node_t *k = key_at(c, perms, i), *v = val_at(c, perms, i);
        if (!strcmp(text(k), "EVENT")) {
            c->group_loc[t->nparticles] = at(c, k);
            if (read_group_specs(c, &t->event_group, k, v, pnames, "an event particle")) return -1;
            continue;
        }
        int p = particle_index(t, text(k));
        if (p < 0) {
            pnames[np] = "EVENT";
            return unknown_name(at(c, k), text(k), "EVENT or an event particle", pnames, np + 1);
        }
        const char *qnames[HN_TOPO_MAX_PRODUCTS];
        product_names(&t->particles[p], qnames);
        char what[HN_TOPO_NAME_MAX + 32];
        snprintf(what, sizeof what, "a product of '%s'", t->particles[p].name);
        c->group_loc[p] = at(c, k);
        if (read_group_specs(c, &t->particles[p].group, k, v, qnames, what)) return -1;
    }
    return 0;
}

/* ---- REGRESSIONS and CLASSIFICATIONS ----------------------------------------------------------- */

/* Slot of a target node: 0 = EVENT, then per particle PARTICLE and its products (upstream's order). */
static int target_slot(int particle, int product)
{
    return particle < 0 ? 0 : 1 + particle * (1 + HN_TOPO_MAX_PRODUCTS) + 1 + product;
}

/* Records the list of one node (read later in upstream's order); a node given twice is an error. */
static int note_target_list(ctx *c, int reg, int particle, int product, const yaml_node_t *key, const yaml_node_t *list)
{
    int slot = target_slot(particle, product);
    if (c->target_given[reg][slot])
        return hn_error(at(c, key), "the targets of '%s' are given twice", text(key));
    c->target_given[reg][slot] = 1;
    c->target_lists[reg][slot] = is_null(list) ? NULL : list;
    if (!is_null(list) && expect(c, key, list, YAML_SEQUENCE_NODE, text(key), reg ? "- name or - [name, type]" : "- name"))
        return -1;
    return 0;
}

/* One particle's node: a mapping {PARTICLE: [...], product: [...]} (what upstream's code reads) or a
 * list of one-key mappings - PARTICLE: [...] (what upstream's docs show). */
static int read_particle_targets(ctx *c, int reg, int p, const yaml_node_t *key, const yaml_node_t *val)
{
    const hn_topo_particle *part = &c->t->particles[p];
    if (is_null(val)) return 0;
    int is_list = val->type == YAML_SEQUENCE_NODE;
    if (!is_list && (expect(c, key, val, YAML_MAPPING_NODE, text(key), "PARTICLE: [...] and product: [...]") ||
                     check_mapping(c, val)))
        return -1;
    for (int i = 0; i < n_items(val); ++i) {
        const yaml_node_t *map = val, *k, *v;
        int at_index = i;
        if (is_list) {
            map = item(c, val, i);
            if (map->type != YAML_MAPPING_NODE || n_items(map) != 1)
                return hn_error(at(c, map), "each entry of the targets of '%s' is one 'PARTICLE: [...]' or "
                                "'product: [...]' pair", part->name);
            if (check_mapping(c, map)) return -1;
            at_index = 0;
        }
        k = key_at(c, map, at_index);
        v = val_at(c, map, at_index);
        int q = -1;
        if (strcmp(text(k), "PARTICLE")) {
            q = product_index(part, text(k));
            if (q < 0) {
                const char *cand[HN_TOPO_MAX_PRODUCTS + 1];
                int n = product_names(part, cand);
                cand[n] = "PARTICLE";
                char what[HN_TOPO_NAME_MAX + 48];
                snprintf(what, sizeof what, "PARTICLE or a product of '%s'", part->name);
                return unknown_name(at(c, k), text(k), what, cand, n + 1);
            }
        }
        if (note_target_list(c, reg, p, q, k, v)) return -1;
    }
    return 0;
}

/* One target entry: a name, or (regressions) [name] / [name, gaussian|laplacian|log_gaussian]. */
static int read_target(ctx *c, int reg, const yaml_node_t *n, hn_topo_target *tg)
{
    static const char *const types[] = { "gaussian", "laplacian", "log_gaussian" };
    const yaml_node_t *name = n, *type = NULL;
    tg->type = HN_TOPO_GAUSSIAN;
    if (reg && n->type == YAML_SEQUENCE_NODE) {
        if (n_items(n) < 1 || n_items(n) > 2)
            return hn_error(at(c, n), "a regression is a name or [name, type], not a list of %d", n_items(n));
        name = item(c, n, 0);
        type = n_items(n) == 2 ? item(c, n, 1) : NULL;
    }
    if (copy_name(c, name, tg->name, reg ? "a regression" : "a classification")) return -1;
    tg->loc = at(c, name);
    if (!type) return 0;
    char ty[HN_TOPO_NAME_MAX];
    if (copy_name(c, type, ty, "a regression type")) return -1;
    for (int k = 0; k < 3; ++k)
        if (!strcmp(ty, types[k])) { tg->type = (hn_topo_regression_type)k; return 0; }
    return unknown_name(at(c, type), ty, "a regression type (gaussian, laplacian or log_gaussian)", types, 3);
}

/* Appends the targets of one node; names are unique within a node. */
static int read_target_list(ctx *c, int reg, int particle, int product, const yaml_node_t *list)
{
    hn_topology *t = c->t;
    int *count = reg ? &t->nregressions : &t->nclassifications;
    hn_topo_target *all = reg ? t->regressions : t->classifications;
    int first = *count;
    for (int i = 0; i < n_items(list); ++i) {
        const yaml_node_t *e = item(c, list, i);
        if (*count == HN_TOPO_MAX_TARGETS)
            return hn_error(at(c, e), "too many %s (at most %d)", reg ? "regressions" : "classifications",
                            HN_TOPO_MAX_TARGETS);
        hn_topo_target *tg = &all[*count];
        tg->particle = particle;
        tg->product = product;
        if (read_target(c, reg, e, tg)) return -1;
        for (int j = first; j < *count; ++j)
            if (!strcmp(all[j].name, tg->name)) {
                hn_error(tg->loc, "duplicate target '%s'", tg->name);
                hn_note(all[j].loc, "first given here");
                return -1;
            }
        (*count)++;
    }
    return 0;
}

/* REGRESSIONS (reg = 1) or CLASSIFICATIONS (reg = 0): EVENT and per-particle nodes. */
static int read_targets(ctx *c, int reg, const yaml_node_t *key, const yaml_node_t *tree)
{
    hn_topology *t = c->t;
    if (is_null(tree)) return 0;
    if (expect(c, key, tree, YAML_MAPPING_NODE, text(key), "EVENT: [...] and particle: {...}") ||
        check_mapping(c, tree))
        return -1;
    for (int i = 0; i < n_items(tree); ++i) {
        const yaml_node_t *k = key_at(c, tree, i), *v = val_at(c, tree, i);
        if (!strcmp(text(k), "EVENT")) {
            if (note_target_list(c, reg, -1, -1, k, v)) return -1;
            continue;
        }
        int p = particle_index(t, text(k));
        if (p < 0) {
            const char *cand[HN_TOPO_MAX_PARTICLES + 1];
            int n = particle_names(t, cand);
            cand[n] = "EVENT";
            return unknown_name(at(c, k), text(k), "EVENT or an event particle", cand, n + 1);
        }
        if (read_particle_targets(c, reg, p, k, v)) return -1;
    }
    /* Emit in upstream's order. */
    if (c->target_lists[reg][0] && read_target_list(c, reg, -1, -1, c->target_lists[reg][0])) return -1;
    for (int p = 0; p < t->nparticles; ++p)
        for (int q = -1; q < t->particles[p].nproducts; ++q) {
            const yaml_node_t *list = c->target_lists[reg][target_slot(p, q)];
            if (list && read_target_list(c, reg, p, q, list)) return -1;
        }
    return 0;
}

/* ---- the file ---------------------------------------------------------------------------------- */

/* libyaml's own error, in the project's format. */
static int yaml_failure(ctx *c, yaml_parser_t *p)
{
    hn_loc loc = { &c->t->src, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1 };
    const char *what = p->problem ? p->problem : "malformed YAML";
    if (!p->context) return hn_error(loc, "malformed YAML: %s", what);
    hn_error(loc, "malformed YAML: %s %s", what, p->context);
    hn_loc ctx_loc = { &c->t->src, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1 };
    if (ctx_loc.line != loc.line || ctx_loc.col != loc.col) hn_note(ctx_loc, "the construct that is not closed starts here");
    return -1;
}

/* Loads the one YAML document of the file into c->doc. */
static int load_document(ctx *c)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return hn_error_plain("%s: error: cannot initialise the YAML parser", c->t->src.path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)c->t->src.text, (size_t)c->t->src.length);
    int rc = 0;
    if (!yaml_parser_load(&parser, &c->doc)) {
        rc = yaml_failure(c, &parser);
        memset(&c->doc, 0, sizeof c->doc);
    } else if (yaml_document_get_root_node(&c->doc)) {
        yaml_document_t second;
        if (!yaml_parser_load(&parser, &second)) {
            rc = yaml_failure(c, &parser);
        } else {
            const yaml_node_t *root2 = yaml_document_get_root_node(&second);
            if (root2)
                rc = hn_error(at(c, root2), "a topology file holds one YAML document; remove the second '---'");
            yaml_document_delete(&second);
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* The top level: INPUTS and EVENT required, PERMUTATIONS / REGRESSIONS / CLASSIFICATIONS optional. */
static int read_root(ctx *c)
{
    static const char *const keys[] = { "INPUTS", "EVENT", "PERMUTATIONS", "REGRESSIONS", "CLASSIFICATIONS" };
    hn_topology *t = c->t;
    const yaml_node_t *root = yaml_document_get_root_node(&c->doc);
    if (!root || is_null(root)) {
        hn_loc loc = { &t->src, 1, 1 };
        return hn_error(loc, "the topology file is empty; it needs INPUTS and EVENT");
    }
    if (expect(c, NULL, root, YAML_MAPPING_NODE, "a SPANet event topology", "INPUTS:, EVENT:, PERMUTATIONS:, ...") ||
        check_mapping(c, root))
        return -1;
    for (int i = 0; i < n_items(root); ++i) {
        const yaml_node_t *k = key_at(c, root, i);
        int known = 0;
        for (int j = 0; j < 5; ++j) known |= !strcmp(text(k), keys[j]);
        if (!known) return unknown_name(at(c, k), text(k), "a key of a SPANet event topology", keys, 5);
    }
    const yaml_node_t *k_in = NULL, *k_ev = NULL, *k_pe = NULL, *k_re = NULL, *k_cl = NULL;
    const yaml_node_t *inputs = get(c, root, "INPUTS", &k_in), *event = get(c, root, "EVENT", &k_ev);
    const yaml_node_t *perms = get(c, root, "PERMUTATIONS", &k_pe), *regs = get(c, root, "REGRESSIONS", &k_re);
    const yaml_node_t *classes = get(c, root, "CLASSIFICATIONS", &k_cl);
    if (!inputs) return hn_error(at(c, root), "the topology has no INPUTS section");
    if (!event) return hn_error(at(c, root), "the topology has no EVENT section");
    if (read_inputs(c, k_in, inputs) || read_event(c, k_ev, event)) return -1;

    /* Every group exists (degree set, identity only) before PERMUTATIONS adds generators. */
    t->event_group.degree = t->nparticles;
    c->group_loc[t->nparticles] = at(c, k_ev);
    for (int p = 0; p < t->nparticles; ++p) {
        t->particles[p].group.degree = t->particles[p].nproducts;
        c->group_loc[p] = t->particles[p].loc;
    }
    if (perms && read_permutations(c, k_pe, perms)) return -1;
    if (hn_topo_close_group(&t->event_group, c->group_loc[t->nparticles])) return -1;
    for (int p = 0; p < t->nparticles; ++p)
        if (hn_topo_close_group(&t->particles[p].group, c->group_loc[p])) return -1;
    hn_topo_event_transpositions(t);
    if (hn_topo_event_clusters(t, c->group_loc[t->nparticles])) return -1;

    if (regs && read_targets(c, 1, k_re, regs)) return -1;
    if (classes && read_targets(c, 0, k_cl, classes)) return -1;
    return 0;
}

int hn_topology_read(const char *path, hn_topology *t)
{
    memset(t, 0, sizeof *t);
    if (hn_source_read(&t->src, path)) { hn_topology_free(t); return -1; }
    ctx *c = calloc(1, sizeof *c);
    if (!c) { hn_topology_free(t); return hn_error_plain("%s: error: out of memory", path); }
    c->t = t;
    int rc = load_document(c);
    if (!rc) rc = read_root(c);
    yaml_document_delete(&c->doc);
    free(c);
    if (rc) hn_topology_free(t);
    return rc ? -1 : 0;
}

static void free_group(hn_topo_group *g)
{
    free(g->elements);
    free(g->generators);
}

void hn_topology_free(hn_topology *t)
{
    free_group(&t->event_group);
    for (int p = 0; p < HN_TOPO_MAX_PARTICLES; ++p) free_group(&t->particles[p].group);
    hn_source_free(&t->src);
    memset(t, 0, sizeof *t);
}

const char *hn_topo_input_kind_name(hn_topo_input_kind k)
{
    return k == HN_TOPO_SEQUENTIAL ? "SEQUENTIAL" : k == HN_TOPO_GLOBAL ? "GLOBAL" : "RELATIVE";
}

const char *hn_topo_regression_type_name(hn_topo_regression_type k)
{
    return k == HN_TOPO_GAUSSIAN ? "gaussian" : k == HN_TOPO_LAPLACIAN ? "laplacian" : "log_gaussian";
}
