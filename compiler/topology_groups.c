/* topology_groups.c — the permutation groups of a SPANet topology (see topology_groups.h): closure of the
 * generators by BFS, and the tables upstream derives from the event group. */
#include "topology_groups.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- group closure ----------------------------------------------------------------------------- */

/* A permutation of at most 16 objects packed 4 bits per image; +1 so that 0 marks an empty slot. */
static uint64_t pack(const int *p, int degree)
{
    uint64_t v = 0;
    for (int i = 0; i < degree; ++i) v |= (uint64_t)p[i] << (4 * i);
    return v + 1;
}

typedef struct perm_set { uint64_t *slots; size_t cap; } perm_set;

/* Inserts key; returns 1 if new, 0 if present, -1 when out of memory. Load factor kept under 1/2. */
static int set_insert(perm_set *s, uint64_t key, size_t count)
{
    if (2 * (count + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *slots = calloc(cap, sizeof *slots);
        if (!slots) return -1;
        for (size_t i = 0; i < s->cap; ++i)
            if (s->slots[i]) {
                size_t h = (size_t)(s->slots[i] * 0x9E3779B97F4A7C15ull) & (cap - 1);
                while (slots[h]) h = (h + 1) & (cap - 1);
                slots[h] = s->slots[i];
            }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
    for (; s->slots[h]; h = (h + 1) & (s->cap - 1))
        if (s->slots[h] == key) return 0;
    s->slots[h] = key;
    return 1;
}

/* Appends a new element to g->elements (capacity doubled as needed). */
static int push_element(hn_topo_group *g, const int *perm, int *cap)
{
    if (g->order == *cap) {
        int ncap = *cap ? 2 * *cap : 8;
        int *el = realloc(g->elements, sizeof *el * (size_t)ncap * (size_t)g->degree);
        if (!el) return -1;
        g->elements = el;
        *cap = ncap;
    }
    memcpy(g->elements + (size_t)g->order * (size_t)g->degree, perm, sizeof *perm * (size_t)g->degree);
    g->order++;
    return 0;
}

/* The whole group by BFS from the identity: element x (in discovery order) times each generator s (in
 * YAML order) gives y[i] = s[x[i]] (x first, then s), appended when new. */
int hn_topo_close_group(hn_topo_group *g, hn_loc loc)
{
    perm_set seen = { 0 };
    int cap = 0, id[HN_TOPO_MAX_PARTICLES], y[HN_TOPO_MAX_PARTICLES], rc = 0;
    for (int i = 0; i < g->degree; ++i) id[i] = i;
    if (set_insert(&seen, pack(id, g->degree), 0) < 0 || push_element(g, id, &cap)) rc = -1;
    for (int head = 0; !rc && head < g->order; ++head)
        for (int s = 0; !rc && s < g->ngenerators; ++s) {
            const int *x = g->elements + (size_t)head * (size_t)g->degree;
            const int *gen = g->generators + (size_t)s * (size_t)g->degree;
            for (int i = 0; i < g->degree; ++i) y[i] = gen[x[i]];
            int fresh = set_insert(&seen, pack(y, g->degree), (size_t)g->order);
            if (fresh < 0) rc = -1;
            else if (fresh && g->order == HN_TOPO_MAX_GROUP_ORDER) rc = -2;
            else if (fresh && push_element(g, y, &cap)) rc = -1;
        }
    free(seen.slots);
    if (rc == -2)
        return hn_error(loc, "this permutation group has more than %d elements; hepnc loops over every element",
                        HN_TOPO_MAX_GROUP_ORDER);
    return rc ? hn_error(loc, "out of memory") : 0;
}

/* ---- derived event tables ---------------------------------------------------------------------- */

static int cmp_pair(const void *a, const void *b)
{
    const int *x = a, *y = b;
    return x[0] != y[0] ? x[0] - y[0] : x[1] - y[1];
}

/* sympy: for every element, every cycle (c0 c1 … cn) with c0 its smallest member gives the pairs
 * (c0, cn) … (c0, c1); the union is a set of sorted pairs. */
void hn_topo_event_transpositions(hn_topology *t)
{
    const hn_topo_group *g = &t->event_group;
    int have[HN_TOPO_MAX_PARTICLES][HN_TOPO_MAX_PARTICLES] = { { 0 } };
    t->ntranspositions = 0;
    for (int e = 0; e < g->order; ++e) {
        const int *x = g->elements + (size_t)e * (size_t)g->degree;
        int visited[HN_TOPO_MAX_PARTICLES] = { 0 };
        for (int i = 0; i < g->degree; ++i) {
            if (visited[i]) continue;
            visited[i] = 1;
            for (int j = x[i]; j != i; j = x[j]) {
                visited[j] = 1;
                if (!have[i][j]) {
                    have[i][j] = 1;
                    t->transpositions[t->ntranspositions][0] = i;
                    t->transpositions[t->ntranspositions][1] = j;
                    t->ntranspositions++;
                }
            }
        }
    }
    qsort(t->transpositions, (size_t)t->ntranspositions, sizeof t->transpositions[0], cmp_pair);
}

/* Upstream's longest_common_substring: the first shortest name's substrings, longest first, leftmost
 * first, the first one found in every name. */
static void common_substring(const char *const *names, int n, char *out)
{
    const char *shortest = names[0];
    for (int i = 1; i < n; ++i)
        if (strlen(names[i]) < strlen(shortest)) shortest = names[i];
    int len = (int)strlen(shortest);
    for (int l = len; l > 0; --l)
        for (int s = 0; s + l <= len; ++s) {
            char cand[HN_TOPO_NAME_MAX];
            memcpy(cand, shortest + s, (size_t)l);
            cand[l] = '\0';
            int all = 1;
            for (int i = 0; i < n && all; ++i) all = strstr(names[i], cand) != NULL;
            if (all) { strcpy(out, cand); return; }
        }
    out[0] = '\0';
}

/* Orbits of G_E (by smallest member), named by the common substring; the particles of one orbit are
 * exchanged by the event symmetry, so they must have as many products as each other. */
int hn_topo_event_clusters(hn_topology *t, hn_loc event_group_loc)
{
    const hn_topo_group *g = &t->event_group;
    int cluster_of[HN_TOPO_MAX_PARTICLES];
    for (int i = 0; i < t->nparticles; ++i) cluster_of[i] = -1;
    for (int i = 0; i < t->nparticles; ++i) {
        if (cluster_of[i] >= 0) continue;
        hn_topo_cluster *cl = &t->clusters[t->nclusters];
        for (int e = 0; e < g->order; ++e) cluster_of[g->elements[(size_t)e * (size_t)g->degree + i]] = t->nclusters;
        const char *names[HN_TOPO_MAX_PARTICLES];
        for (int j = i; j < t->nparticles; ++j)
            if (cluster_of[j] == t->nclusters) {
                if (t->particles[j].nproducts != t->particles[i].nproducts) {
                    hn_error(event_group_loc, "event particles '%s' (%d products) and '%s' (%d products) "
                             "are exchanged by the EVENT permutations but differ in their number of products",
                             t->particles[i].name, t->particles[i].nproducts, t->particles[j].name,
                             t->particles[j].nproducts);
                    return -1;
                }
                names[cl->nmembers] = t->particles[j].name;
                cl->members[cl->nmembers++] = j;
            }
        common_substring(names, cl->nmembers, cl->name);
        t->nclusters++;
    }
    return 0;
}
