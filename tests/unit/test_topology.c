/* test_topology.c — the SPANet event topology reader (compiler/topology.c, docs/spanet.md):
 *   1. the three topologies in tools/gen/topologies and (when present) SPANet's own
 *      full_hadronic_ttbar.yaml: inputs, features and their flags, particles, products and sources,
 *      the groups element by element, transpositions, clusters, regressions and classifications;
 *   2. group generation on small files: a flat list of n names = S_n (6 and 24 elements), a list of
 *      lists = one generator in cycle notation (order 2, not 4), a 3-cycle, the BFS element order;
 *   3. option strings, product sources, the upstream order of regression / classification targets;
 *   4. errors: each one must name FILE:LINE:COL and say what is wrong.
 * Usage: test_topology TOPOLOGY_DIR [SHARED_full_hadronic_ttbar.yaml] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topology.h"

static int passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) ++passed;                                                \
        else { ++failed; printf("FAIL %s:%d: ", __FILE__, __LINE__);       \
               printf(__VA_ARGS__); putchar('\n'); }                       \
    } while (0)

static char tmpdir[] = "/tmp/hn_topology_XXXXXX";

/* Writes `yaml` to TMPDIR/NAME.yaml; the path is returned in a static buffer. */
static const char *write_file(const char *name, const char *yaml)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s.yaml", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(yaml, f);
    fclose(f);
    return path;
}

/* ---- group checks ------------------------------------------------------------------------------ */

/* The group's elements, in order, equal `expect` (order × degree). */
static void check_elements(const hn_topo_group *g, int degree, int order, const int *expect, const char *what)
{
    CHECK(g->degree == degree, "%s: degree %d, expected %d", what, g->degree, degree);
    CHECK(g->order == order, "%s: order %d, expected %d", what, g->order, order);
    if (g->degree != degree || g->order != order) return;
    for (int e = 0; e < order; ++e) {
        int same = !memcmp(g->elements + e * degree, expect + e * degree, sizeof(int) * (size_t)degree);
        CHECK(same, "%s: element %d differs", what, e);
        if (!same) {
            printf("  got:");
            for (int i = 0; i < degree; ++i) printf(" %d", g->elements[e * degree + i]);
            printf("\n  expected:");
            for (int i = 0; i < degree; ++i) printf(" %d", expect[e * degree + i]);
            putchar('\n');
        }
    }
}

/* Every element is a permutation of 0..degree-1, no two are equal, the first is the identity. */
static void check_group_sane(const hn_topo_group *g, const char *what)
{
    int k = g->degree, ok = 1;
    for (int e = 0; e < g->order && ok; ++e) {
        int seen[16] = { 0 };
        for (int i = 0; i < k; ++i) {
            int v = g->elements[e * k + i];
            if (v < 0 || v >= k || seen[v]++) ok = 0;
        }
        for (int f = 0; f < e && ok; ++f)
            if (!memcmp(g->elements + e * k, g->elements + f * k, sizeof(int) * (size_t)k)) ok = 0;
    }
    CHECK(ok, "%s: elements are not distinct permutations", what);
    int id = 1;
    for (int i = 0; i < k; ++i) id &= g->elements[i] == i;
    CHECK(id, "%s: the first element is not the identity", what);
    /* closed under composition */
    int closed = 1, y[16];
    for (int a = 0; a < g->order && closed && g->order <= 120; ++a)
        for (int b = 0; b < g->order && closed; ++b) {
            for (int i = 0; i < k; ++i) y[i] = g->elements[b * k + g->elements[a * k + i]];
            int found = 0;
            for (int e = 0; e < g->order && !found; ++e) found = !memcmp(y, g->elements + e * k, sizeof(int) * (size_t)k);
            closed = found;
        }
    CHECK(closed, "%s: not closed under composition", what);
}

static void check_feature(const hn_topo_input *in, int i, const char *name, int norm, int log)
{
    CHECK(i < in->nfeatures, "%s: no feature %d", in->name, i);
    if (i >= in->nfeatures) return;
    const hn_topo_feature *f = &in->features[i];
    CHECK(!strcmp(f->name, name), "%s feature %d is '%s', expected '%s'", in->name, i, f->name, name);
    CHECK(f->normalize == norm && f->log_scale == log, "%s/%s: normalize %d log %d, expected %d %d", in->name, name,
          f->normalize, f->log_scale, norm, log);
}

static void check_products(const hn_topo_particle *p, const char *name, int n, const char *const *names,
                           const int *sources)
{
    CHECK(!strcmp(p->name, name), "particle '%s', expected '%s'", p->name, name);
    CHECK(p->nproducts == n, "%s: %d products, expected %d", name, p->nproducts, n);
    for (int i = 0; i < n && i < p->nproducts; ++i) {
        CHECK(!strcmp(p->products[i].name, names[i]), "%s product %d is '%s', expected '%s'", name, i,
              p->products[i].name, names[i]);
        CHECK(p->products[i].source == sources[i], "%s/%s: source %d, expected %d", name, names[i],
              p->products[i].source, sources[i]);
    }
}

static void check_cluster(const hn_topology *t, int c, const char *name, int n, const int *members)
{
    CHECK(c < t->nclusters, "no cluster %d", c);
    if (c >= t->nclusters) return;
    const hn_topo_cluster *cl = &t->clusters[c];
    CHECK(!strcmp(cl->name, name), "cluster %d is named '%s', expected '%s'", c, cl->name, name);
    CHECK(cl->nmembers == n, "cluster %d has %d members, expected %d", c, cl->nmembers, n);
    for (int i = 0; i < n && i < cl->nmembers; ++i)
        CHECK(cl->members[i] == members[i], "cluster %d member %d is %d, expected %d", c, i, cl->members[i], members[i]);
}

static void check_target(const hn_topo_target *tg, const char *name, int particle, int product,
                         hn_topo_regression_type type)
{
    CHECK(!strcmp(tg->name, name) && tg->particle == particle && tg->product == product && tg->type == type,
          "target '%s' (%d, %d, %s), expected '%s' (%d, %d, %s)", tg->name, tg->particle, tg->product,
          hn_topo_regression_type_name(tg->type), name, particle, product, hn_topo_regression_type_name(type));
}

/* ---- the real topologies ----------------------------------------------------------------------- */

static const int ID1[] = { 0 }, SWAP2[] = { 0, 1, 1, 0 };

static void test_full_hadronic_ttbar(const char *path)
{
    hn_topology *t = calloc(1, sizeof *t);
    int rc = hn_topology_read(path, t);
    CHECK(rc == 0, "%s does not read", path);
    if (rc) { free(t); return; }
    CHECK(t->ninputs == 1, "ttbar: %d inputs, expected 1", t->ninputs);
    const hn_topo_input *src = &t->inputs[0];
    CHECK(!strcmp(src->name, "Source") && src->kind == HN_TOPO_SEQUENTIAL && src->nfeatures == 5,
          "ttbar: input 0 is '%s' %s with %d features", src->name, hn_topo_input_kind_name(src->kind), src->nfeatures);
    check_feature(src, 0, "mass", 1, 1);
    check_feature(src, 1, "pt", 1, 1);
    check_feature(src, 2, "eta", 1, 0);
    check_feature(src, 3, "phi", 1, 0);
    check_feature(src, 4, "btag", 0, 0);

    static const char *const top[] = { "q1", "q2", "b" };
    static const int none3[] = { -1, -1, -1 };
    CHECK(t->nparticles == 2, "ttbar: %d particles", t->nparticles);
    check_products(&t->particles[0], "t1", 3, top, none3);
    check_products(&t->particles[1], "t2", 3, top, none3);

    check_elements(&t->event_group, 2, 2, SWAP2, "ttbar G_E");
    static const int g_top[] = { 0, 1, 2, 1, 0, 2 };
    check_elements(&t->particles[0].group, 3, 2, g_top, "ttbar G_t1");
    check_elements(&t->particles[1].group, 3, 2, g_top, "ttbar G_t2");
    CHECK(t->event_group.ngenerators == 1, "ttbar: G_E has %d generators", t->event_group.ngenerators);

    CHECK(t->ntranspositions == 1 && t->transpositions[0][0] == 0 && t->transpositions[0][1] == 1,
          "ttbar: transpositions %d", t->ntranspositions);
    CHECK(t->nclusters == 1, "ttbar: %d clusters", t->nclusters);
    static const int both[] = { 0, 1 };
    check_cluster(t, 0, "t", 2, both);
    CHECK(t->nregressions == 0 && t->nclassifications == 0, "ttbar: %d regressions %d classifications",
          t->nregressions, t->nclassifications);
    hn_topology_free(t);
    free(t);
}

/* Momenta (9 features) and Met (3), shared by the semi-leptonic files. */
static void check_semileptonic_inputs(const hn_topology *t, const char *what)
{
    CHECK(t->ninputs == 2, "%s: %d inputs", what, t->ninputs);
    if (t->ninputs != 2) return;
    const hn_topo_input *m = &t->inputs[0], *met = &t->inputs[1];
    CHECK(!strcmp(m->name, "Momenta") && m->kind == HN_TOPO_SEQUENTIAL && m->nfeatures == 9, "%s: input 0", what);
    check_feature(m, 0, "mass", 1, 1);
    check_feature(m, 1, "pt", 1, 1);
    check_feature(m, 2, "eta", 1, 0);
    check_feature(m, 3, "sin_phi", 1, 0);
    check_feature(m, 4, "cos_phi", 1, 0);
    check_feature(m, 5, "qtag", 0, 0);
    check_feature(m, 6, "btag", 0, 0);
    check_feature(m, 7, "etag", 0, 0);
    check_feature(m, 8, "utag", 0, 0);
    CHECK(!strcmp(met->name, "Met") && met->kind == HN_TOPO_GLOBAL && met->nfeatures == 3, "%s: input 1", what);
    check_feature(met, 0, "met", 1, 1);
    check_feature(met, 1, "sin_phi", 1, 0);
    check_feature(met, 2, "cos_phi", 1, 0);
}

static void check_neutrino_regressions(const hn_topology *t, const char *what)
{
    static const char *const names[] = { "neutrino_eta", "neutrino_px", "neutrino_py", "neutrino_pz",
                                         "log_invariant_mass" };
    CHECK(t->nregressions == 5, "%s: %d regressions", what, t->nregressions);
    for (int i = 0; i < 5 && i < t->nregressions; ++i) check_target(&t->regressions[i], names[i], -1, -1, HN_TOPO_GAUSSIAN);
}

static void test_semi_leptonic(const char *dir, int with_higgs)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.yaml", dir, with_higgs ? "semi_leptonic_ttH" : "semi_leptonic_ttbar");
    const char *what = with_higgs ? "ttH" : "semi-leptonic ttbar";
    hn_topology *t = calloc(1, sizeof *t);
    int rc = hn_topology_read(path, t);
    CHECK(rc == 0, "%s does not read", path);
    if (rc) { free(t); return; }
    check_semileptonic_inputs(t, what);

    int np = with_higgs ? 3 : 2;
    CHECK(t->nparticles == np, "%s: %d particles", what, t->nparticles);
    static const char *const lt[] = { "b" }, *const ht[] = { "b", "q1", "q2" }, *const h[] = { "b1", "b2" };
    static const int none[] = { -1, -1, -1 };
    check_products(&t->particles[0], "lt", 1, lt, none);
    check_products(&t->particles[1], "ht", 3, ht, none);
    if (with_higgs) check_products(&t->particles[2], "h", 2, h, none);

    /* degrees 1, 3 (, 2); G_E trivial; ht swaps q1 and q2 (products 1 and 2) */
    static const int id2[] = { 0, 1 }, id3[] = { 0, 1, 2 };
    check_elements(&t->event_group, np, 1, with_higgs ? id3 : id2, with_higgs ? "ttH G_E" : "ttbar1l G_E");
    check_elements(&t->particles[0].group, 1, 1, ID1, "G_lt");
    static const int g_ht[] = { 0, 1, 2, 0, 2, 1 };
    check_elements(&t->particles[1].group, 3, 2, g_ht, "G_ht");
    if (with_higgs) check_elements(&t->particles[2].group, 2, 2, SWAP2, "G_h");
    CHECK(t->ntranspositions == 0, "%s: %d transpositions", what, t->ntranspositions);
    CHECK(t->nclusters == np, "%s: %d clusters", what, t->nclusters);
    static const int c0[] = { 0 }, c1[] = { 1 }, c2[] = { 2 };
    check_cluster(t, 0, "lt", 1, c0);
    check_cluster(t, 1, "ht", 1, c1);
    if (with_higgs) check_cluster(t, 2, "h", 1, c2);

    check_neutrino_regressions(t, what);
    CHECK(t->nclassifications == (with_higgs ? 1 : 0), "%s: %d classifications", what, t->nclassifications);
    if (with_higgs && t->nclassifications == 1) check_target(&t->classifications[0], "signal", -1, -1, HN_TOPO_GAUSSIAN);
    hn_topology_free(t);
    free(t);
}

/* ---- groups on small files --------------------------------------------------------------------- */

/* A topology with one SEQUENTIAL input and the given EVENT / PERMUTATIONS text. */
static int read_small(const char *name, const char *event_and_perms, hn_topology *t)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "INPUTS:\n  SEQUENTIAL:\n    Jets:\n      pt: log_normalize\n%s", event_and_perms);
    return hn_topology_read(write_file(name, yaml), t);
}

static void test_groups(void)
{
    hn_topology *t = calloc(1, sizeof *t);

    /* flat list of 3 = S3, generators (a b), (a c), (b c); BFS order documented in docs/spanet.md */
    int rc = read_small("s3", "EVENT:\n  top1: [q]\n  top2: [q]\n  top3: [q]\n"
                              "PERMUTATIONS:\n  EVENT:\n    - [top1, top2, top3]\n", t);
    CHECK(rc == 0, "S3 file does not read");
    if (!rc) {
        static const int s3[] = { 0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0, 2, 0, 1 };
        check_elements(&t->event_group, 3, 6, s3, "S3");
        check_group_sane(&t->event_group, "S3");
        CHECK(t->event_group.ngenerators == 3, "S3: %d generators", t->event_group.ngenerators);
        CHECK(t->ntranspositions == 3, "S3: %d transpositions", t->ntranspositions);
        static const int all3[] = { 0, 1, 2 };
        CHECK(t->nclusters == 1, "S3: %d clusters", t->nclusters);
        check_cluster(t, 0, "top", 3, all3);
        hn_topology_free(t);
    }

    /* [[a1, a2], [b1, b2]] = ONE generator (a1 a2)(b1 b2): order 2, not 4 */
    rc = read_small("cycles", "EVENT:\n  a1: [q]\n  a2: [q]\n  b1: [q]\n  b2: [q]\n"
                              "PERMUTATIONS:\n  EVENT:\n    - [[a1, a2], [b1, b2]]\n", t);
    CHECK(rc == 0, "cycle file does not read");
    if (!rc) {
        static const int z2[] = { 0, 1, 2, 3, 1, 0, 3, 2 };
        check_elements(&t->event_group, 4, 2, z2, "[[a1,a2],[b1,b2]]");
        CHECK(t->ntranspositions == 2 && t->transpositions[0][0] == 0 && t->transpositions[0][1] == 1 &&
              t->transpositions[1][0] == 2 && t->transpositions[1][1] == 3, "double swap: transpositions");
        static const int a[] = { 0, 1 }, b[] = { 2, 3 };
        CHECK(t->nclusters == 2, "double swap: %d clusters", t->nclusters);
        check_cluster(t, 0, "a", 2, a);
        check_cluster(t, 1, "b", 2, b);
        hn_topology_free(t);
    }

    /* two separate generators [[a1, a2]] and [[b1, b2]]: order 4 */
    rc = read_small("two_gens", "EVENT:\n  a1: [q]\n  a2: [q]\n  b1: [q]\n  b2: [q]\n"
                                "PERMUTATIONS:\n  EVENT:\n    - [[a1, a2]]\n    - [[b1, b2]]\n", t);
    CHECK(rc == 0 && t->event_group.order == 4, "[[a1,a2]], [[b1,b2]]: order %d, expected 4", t->event_group.order);
    if (!rc) { check_group_sane(&t->event_group, "two generators"); hn_topology_free(t); }

    /* flat list of 4 = S4 (24 elements, 6 transpositions as generators) */
    rc = read_small("s4", "EVENT:\n  w1: [q]\n  w2: [q]\n  w3: [q]\n  w4: [q]\n"
                          "PERMUTATIONS:\n  EVENT:\n    - [w1, w2, w3, w4]\n", t);
    CHECK(rc == 0, "S4 file does not read");
    if (!rc) {
        CHECK(t->event_group.order == 24, "S4: order %d", t->event_group.order);
        CHECK(t->event_group.ngenerators == 6, "S4: %d generators", t->event_group.ngenerators);
        check_group_sane(&t->event_group, "S4");
        CHECK(t->ntranspositions == 6, "S4: %d transpositions", t->ntranspositions);
        hn_topology_free(t);
    }

    /* a 3-cycle [[a, b, c]]: the cyclic group of order 3; upstream's transpositions() of (0 1 2) and
     * (0 2 1) give only (0,1) and (0,2) */
    rc = read_small("c3", "EVENT:\n  a: [q]\n  b: [q]\n  c: [q]\n  d: [q]\n"
                          "PERMUTATIONS:\n  EVENT:\n    - [[a, b, c]]\n", t);
    CHECK(rc == 0, "C3 file does not read");
    if (!rc) {
        static const int c3[] = { 0, 1, 2, 3, 1, 2, 0, 3, 2, 0, 1, 3 };
        check_elements(&t->event_group, 4, 3, c3, "C3");
        CHECK(t->ntranspositions == 2 && t->transpositions[0][0] == 0 && t->transpositions[0][1] == 1 &&
              t->transpositions[1][0] == 0 && t->transpositions[1][1] == 2, "C3: %d transpositions", t->ntranspositions);
        static const int abc[] = { 0, 1, 2 }, d[] = { 3 };
        check_cluster(t, 0, "", 3, abc);
        check_cluster(t, 1, "d", 1, d);
        hn_topology_free(t);
    }

    /* product groups: S3 on three of four products, and a group given as a 2-cycle list */
    rc = read_small("products", "EVENT:\n  x:\n    - j1\n    - j2\n    - j3\n    - j4\n  y: [u, v]\n"
                                "PERMUTATIONS:\n  x:\n    - [j2, j3, j4]\n  y:\n    - [[u, v]]\n", t);
    CHECK(rc == 0, "product-group file does not read");
    if (!rc) {
        CHECK(t->particles[0].group.degree == 4 && t->particles[0].group.order == 6, "G_x: degree %d order %d",
              t->particles[0].group.degree, t->particles[0].group.order);
        check_group_sane(&t->particles[0].group, "G_x");
        int fixes0 = 1;
        for (int e = 0; e < t->particles[0].group.order; ++e) fixes0 &= t->particles[0].group.elements[e * 4] == 0;
        CHECK(fixes0, "G_x moves j1");
        check_elements(&t->particles[1].group, 2, 2, SWAP2, "G_y");
        check_elements(&t->event_group, 2, 1, (const int[]){ 0, 1 }, "G_E of x, y");
        hn_topology_free(t);
    }
    free(t);
}

/* ---- options, sources, targets ------------------------------------------------------------------ */

static void test_options_and_sources(void)
{
    hn_topology *t = calloc(1, sizeof *t);
    const char *yaml =
        "INPUTS:\n"
        "  SEQUENTIAL:\n"
        "    Jets:\n"
        "      a: log\n"
        "      b: none\n"
        "      c: 'True'\n"
        "      d: LOG_NORMALIZE\n"
        "      e: normalise\n"
        "      f: false\n"
        "    Leptons:\n"
        "      pt: normalize\n"
        "  relative:\n"
        "    Pairs:\n"
        "      dr: log\n"
        "  GLOBAL:\n"
        "    Met:\n"
        "      met: log_normalize\n"
        "EVENT:\n"
        "  t:\n"
        "    - b: Jets\n"
        "    - l: Leptons\n"
        "    - p: Pairs\n"
        "    - nu\n"
        "    - x:\n";
    int rc = hn_topology_read(write_file("options", yaml), t);
    CHECK(rc == 0, "options file does not read");
    if (!rc) {
        CHECK(t->ninputs == 4, "options: %d inputs", t->ninputs);
        const hn_topo_input *j = &t->inputs[0];
        check_feature(j, 0, "a", 0, 1);
        check_feature(j, 1, "b", 0, 0);
        check_feature(j, 2, "c", 1, 0);
        check_feature(j, 3, "d", 1, 1);
        check_feature(j, 4, "e", 0, 0);
        check_feature(j, 5, "f", 0, 0);
        CHECK(t->inputs[2].kind == HN_TOPO_RELATIVE && t->inputs[3].kind == HN_TOPO_GLOBAL, "options: input kinds");
        static const char *const names[] = { "b", "l", "p", "nu", "x" };
        static const int sources[] = { 0, 1, 2, -1, -1 };
        check_products(&t->particles[0], "t", 5, names, sources);
        hn_topology_free(t);
    }
    free(t);
}

static void test_targets(void)
{
    hn_topology *t = calloc(1, sizeof *t);
    /* targets given out of order: upstream reads EVENT, then per particle PARTICLE and products */
    const char *yaml =
        "INPUTS:\n  SEQUENTIAL:\n    Jets:\n      pt: none\n"
        "EVENT:\n  t1: [q1, q2, b]\n  t2: [q1, q2, b]\n"
        "PERMUTATIONS:\n  EVENT: [[t1, t2]]\n"
        "REGRESSIONS:\n"
        "  t2:\n"
        "    b: [b_pt]\n"
        "    PARTICLE: [[t_mass, log_gaussian]]\n"
        "  EVENT:\n"
        "    - m_tt\n"
        "    - [met, laplacian]\n"
        "    - [ht]\n"
        "  t1:\n"
        "    - q2: [q_pt]\n"
        "    - PARTICLE: [[t_mass, log_gaussian]]\n"
        "CLASSIFICATIONS:\n"
        "  t1:\n"
        "    PARTICLE: [is_top]\n"
        "  EVENT: [signal]\n";
    int rc = hn_topology_read(write_file("targets", yaml), t);
    CHECK(rc == 0, "targets file does not read");
    if (!rc) {
        CHECK(t->nregressions == 7, "targets: %d regressions", t->nregressions);
        if (t->nregressions == 7) {
            check_target(&t->regressions[0], "m_tt", -1, -1, HN_TOPO_GAUSSIAN);
            check_target(&t->regressions[1], "met", -1, -1, HN_TOPO_LAPLACIAN);
            check_target(&t->regressions[2], "ht", -1, -1, HN_TOPO_GAUSSIAN);
            check_target(&t->regressions[3], "t_mass", 0, -1, HN_TOPO_LOG_GAUSSIAN);
            check_target(&t->regressions[4], "q_pt", 0, 1, HN_TOPO_GAUSSIAN);
            check_target(&t->regressions[5], "t_mass", 1, -1, HN_TOPO_LOG_GAUSSIAN);
            check_target(&t->regressions[6], "b_pt", 1, 2, HN_TOPO_GAUSSIAN);
        }
        CHECK(t->nclassifications == 2, "targets: %d classifications", t->nclassifications);
        if (t->nclassifications == 2) {
            check_target(&t->classifications[0], "signal", -1, -1, HN_TOPO_GAUSSIAN);
            check_target(&t->classifications[1], "is_top", 0, -1, HN_TOPO_GAUSSIAN);
        }
        /* EVENT: [[t1, t2]] is the list of one flat spec [t1, t2] */
        CHECK(t->event_group.order == 2, "targets: G_E order %d", t->event_group.order);
        hn_topology_free(t);
    }
    free(t);
}

/* ---- errors ------------------------------------------------------------------------------------ */

/* Reads `yaml` with stderr captured; the read must fail with "PATH:LINE_COL: error:" and `needle`. */
static void expect_error(const char *name, const char *yaml, const char *line_col, const char *needle)
{
    const char *path = write_file(name, yaml);
    char saved_path[512], log[512];
    snprintf(saved_path, sizeof saved_path, "%s", path);
    snprintf(log, sizeof log, "%s/%s.err", tmpdir, name);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(log, "w");
    dup2(fileno(f), 2);
    hn_topology *t = calloc(1, sizeof *t);
    int rc = hn_topology_read(saved_path, t);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    hn_topology_free(t);                                     /* harmless after a failure */
    free(t);

    char text[8192] = "";
    f = fopen(log, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char where[600];
    snprintf(where, sizeof where, "%s:%s: error: ", saved_path, line_col);
    CHECK(rc == -1, "%s: the read did not fail", name);
    int ok = strstr(text, where) && strstr(text, needle);
    CHECK(ok, "%s: expected '%s' and '%s' in:\n%s", name, where, needle, text);
}

#define HEAD "INPUTS:\n  SEQUENTIAL:\n    Jets:\n      pt: log_normalize\n"
#define TTBAR HEAD "EVENT:\n  t1: [q1, q2, b]\n  t2: [q1, q2, b]\n"

static void test_errors(void)
{
    expect_error("unknown_top", TTBAR "PERMUTATION:\n  EVENT: [t1, t2]\n", "8:1",
                 "'PERMUTATION' is not a key of a SPANet event topology; did you mean 'PERMUTATIONS'?");
    expect_error("unknown_perm_particle", TTBAR "PERMUTATIONS:\n  EVENT:\n    - [t1, t2]\n  t3:\n    - [q1, q2]\n",
                 "11:3", "'t3' is not EVENT or an event particle; did you mean 't1'?");
    expect_error("unknown_perm_name", TTBAR "PERMUTATIONS:\n  EVENT:\n    - [t1, top2]\n", "10:12",
                 "'top2' is not an event particle; did you mean 't2'?");
    expect_error("unknown_product_name", TTBAR "PERMUTATIONS:\n  t1:\n    - [q1, q3]\n", "10:12",
                 "'q3' is not a product of 't1'; did you mean 'q1'?");
    expect_error("unknown_input", HEAD "EVENT:\n  t1:\n    - q1: Jet\n    - b\n", "7:11",
                 "'Jet' is not an input; did you mean 'Jets'?");
    expect_error("global_first", "INPUTS:\n  GLOBAL:\n    Met:\n      met: log\n  SEQUENTIAL:\n    Jets:\n"
                                 "      pt: log\nEVENT:\n  t: [b]\n", "6:5",
                 "SEQUENTIAL input 'Jets' comes after GLOBAL input 'Met'");
    expect_error("scalar_event", HEAD "EVENT: t1\n", "5:8", "EVENT must be a mapping");
    expect_error("scalar_inputs", "INPUTS: Jets\nEVENT:\n  t: [b]\n", "1:9", "INPUTS must be a mapping");
    expect_error("list_input", "INPUTS:\n  SEQUENTIAL:\n    Jets: [pt, eta]\nEVENT:\n  t: [b]\n", "3:11",
                 "input 'Jets' must be a mapping");
    expect_error("overlap", HEAD "EVENT:\n  a: [q]\n  b: [q]\n  c: [q]\nPERMUTATIONS:\n  EVENT:\n"
                             "    - [[a, b], [b, c]]\n", "11:17", "'b' appears twice in one generator");
    expect_error("twice_in_flat", TTBAR "PERMUTATIONS:\n  EVENT:\n    - [t1, t1]\n", "10:12",
                 "'t1' is listed twice");
    expect_error("mixed_spec", TTBAR "PERMUTATIONS:\n  EVENT:\n    - [t1, [t2]]\n", "10:12", "not both");
    expect_error("dup_particle", TTBAR "  t1: [b]\n", "8:3", "duplicate key 't1'");
    expect_error("dup_product", HEAD "EVENT:\n  t1: [q1, q1]\n", "6:12", "'q1' is already a product of 't1'");
    expect_error("dup_input", "INPUTS:\n  SEQUENTIAL:\n    Jets:\n      pt: log\n  GLOBAL:\n    Jets:\n"
                              "      met: log\nEVENT:\n  t: [b]\n", "6:5", "duplicate input 'Jets'");
    expect_error("no_option", HEAD "      eta:\nEVENT:\n  t: [b]\n", "5:7", "feature 'eta' needs an option");
    expect_error("bad_kind", "INPUTS:\n  SEQUENTAL:\n    Jets:\n      pt: log\nEVENT:\n  t: [b]\n", "2:3",
                 "did you mean 'SEQUENTIAL'?");
    expect_error("global_product", "INPUTS:\n  SEQUENTIAL:\n    Jets:\n      pt: log\n  GLOBAL:\n    Met:\n"
                                   "      met: log\nEVENT:\n  t:\n    - nu: Met\n", "10:11", "names GLOBAL input 'Met'");
    expect_error("degree_mismatch", HEAD "EVENT:\n  t: [q1, q2, b]\n  w: [q1, q2]\nPERMUTATIONS:\n  EVENT:\n"
                                    "    - [t, w]\n", "9:3", "differ in their number of products");
    expect_error("reg_particle", TTBAR "REGRESSIONS:\n  t3:\n    PARTICLE: [m]\n", "9:3",
                 "'t3' is not EVENT or an event particle; did you mean 't1'?");
    expect_error("reg_product", TTBAR "REGRESSIONS:\n  t1:\n    - q3: [pt]\n", "10:7",
                 "'q3' is not PARTICLE or a product of 't1'; did you mean 'q1'?");
    expect_error("reg_type", TTBAR "REGRESSIONS:\n  EVENT:\n    - [m_tt, gausian]\n", "10:14",
                 "did you mean 'gaussian'?");
    expect_error("dup_target", TTBAR "CLASSIFICATIONS:\n  EVENT: [signal, signal]\n", "9:19", "duplicate target 'signal'");
    expect_error("no_event", HEAD, "1:1", "no EVENT section");
    expect_error("empty", "# nothing\n", "1:1", "empty");
    expect_error("two_docs", TTBAR "---\nEVENT: {}\n", "9:1", "one YAML document");
    expect_error("malformed", HEAD "EVENT:\n  t1: [q1, q2\n", "7:1", "malformed YAML");
    expect_error("too_many_products", HEAD "EVENT:\n  t: [a, b, c, d, e, f, g, h, i]\n", "6:31", "too many products");
    expect_error("group_too_big", HEAD "EVENT:\n  a: [q]\n  b: [q]\n  c: [q]\n  d: [q]\n  e: [q]\n  f: [q]\n  g: [q]\n"
                                  "  h: [q]\n  i: [q]\nPERMUTATIONS:\n  EVENT:\n    - [a, b, c, d, e, f, g, h, i]\n",
                 "16:3", "more than 40320 elements");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TOPOLOGY_DIR [SHARED_full_hadronic_ttbar.yaml]\n", argv[0]);
        return 2;
    }
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }

    char path[512];
    snprintf(path, sizeof path, "%s/full_hadronic_ttbar.yaml", argv[1]);
    test_full_hadronic_ttbar(path);
    test_semi_leptonic(argv[1], 0);
    test_semi_leptonic(argv[1], 1);
    if (argc > 2 && access(argv[2], R_OK) == 0)
        test_full_hadronic_ttbar(argv[2]);
    else
        printf("skipped: SPANet's own full_hadronic_ttbar.yaml (%s%s)\n", argc > 2 ? argv[2] : "no path given",
               argc > 2 ? " is absent" : "");
    test_groups();
    test_options_and_sources();
    test_targets();
    test_errors();

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
