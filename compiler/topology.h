/* topology.h — a SPANet event topology file (SPANet's event_files/NAME.yaml), read with upstream SPANet's
 * semantics (spanet/dataset/event_info.py, network/utilities/group_theory.py; docs/spanet.md).
 *
 * The file names the inputs and their features, the two-level event tree (event particles and their
 * decay products), the permutation symmetries of both levels, and the regression and classification
 * targets. hn_topology_read checks it (types, names, limits) and derives the permutation groups, the
 * event transpositions and the clusters (orbits of the event group). */
#ifndef HN_TOPOLOGY_H
#define HN_TOPOLOGY_H

#include "diag.h"

#define HN_TOPO_NAME_MAX 64            /* names hold at most 63 bytes */
#define HN_TOPO_MAX_INPUTS 16
#define HN_TOPO_MAX_FEATURES 32         /* per input */
#define HN_TOPO_MAX_PARTICLES 16        /* event particles */
#define HN_TOPO_MAX_PRODUCTS 8          /* per event particle */
#define HN_TOPO_MAX_TARGETS 64          /* regressions (and, separately, classifications) in all */
#define HN_TOPO_MAX_GENERATORS 256      /* per group, after expanding flat lists into transpositions */
#define HN_TOPO_MAX_GROUP_ORDER 40320   /* 8!: a group may not have more elements */
#define HN_TOPO_MAX_PAIRS (HN_TOPO_MAX_PARTICLES * (HN_TOPO_MAX_PARTICLES - 1) / 2)

typedef enum { HN_TOPO_SEQUENTIAL, HN_TOPO_GLOBAL, HN_TOPO_RELATIVE } hn_topo_input_kind;
typedef enum { HN_TOPO_GAUSSIAN, HN_TOPO_LAPLACIAN, HN_TOPO_LOG_GAUSSIAN } hn_topo_regression_type;

typedef struct hn_topo_feature {
    char name[HN_TOPO_NAME_MAX];
    int normalize;              /* "normalize" or "true" in the lower-cased option */
    int log_scale;              /* "log" in the lower-cased option */
} hn_topo_feature;

typedef struct hn_topo_input {
    char name[HN_TOPO_NAME_MAX];
    hn_topo_input_kind kind;
    int nfeatures;              /* >= 1 */
    hn_topo_feature features[HN_TOPO_MAX_FEATURES];    /* in YAML order */
    hn_loc loc;                 /* the input's name in the file */
} hn_topo_input;

/* A permutation group in array form: element e maps object i to elements[e * degree + i]. */
typedef struct hn_topo_group {
    int degree;                 /* number of objects permuted (particles, or a particle's products) */
    int order;                  /* number of elements, identity included (1 when no symmetry is given) */
    int *elements;              /* order × degree; identity first, then BFS discovery order (below) */
    int ngenerators;            /* generators after expansion, in YAML order */
    int *generators;            /* ngenerators × degree, array form; NULL when there are none */
} hn_topo_group;

typedef struct hn_topo_product {
    char name[HN_TOPO_NAME_MAX];
    int source;                 /* index into inputs (SEQUENTIAL or RELATIVE), -1 when unassociated */
    hn_loc loc;
} hn_topo_product;

typedef struct hn_topo_particle {
    char name[HN_TOPO_NAME_MAX];
    int nproducts;              /* >= 1 */
    hn_topo_product products[HN_TOPO_MAX_PRODUCTS];    /* in YAML order */
    hn_topo_group group;        /* G_p over the products (degree = nproducts) */
    hn_loc loc;
} hn_topo_particle;

/* A regression or classification target. particle = -1: an EVENT target; product = -1: a PARTICLE
 * target of `particle`; otherwise a target of that product. */
typedef struct hn_topo_target {
    char name[HN_TOPO_NAME_MAX];
    int particle, product;
    hn_topo_regression_type type;   /* regressions only (gaussian unless [name, type] says otherwise) */
    hn_loc loc;
} hn_topo_target;

/* An orbit of the event group: members ascending; name = longest common substring of the member names
 * (upstream's evaluator rule; a single member keeps its own name; may be empty). */
typedef struct hn_topo_cluster {
    char name[HN_TOPO_NAME_MAX];
    int nmembers;
    int members[HN_TOPO_MAX_PARTICLES];
} hn_topo_cluster;

typedef struct hn_topology {
    hn_source src;              /* the file; every hn_loc above points at it (do not copy the struct;
                                 * the path given to hn_topology_read must outlive the locations' use) */

    int ninputs;                /* YAML order: every SEQUENTIAL/RELATIVE input before any GLOBAL one */
    hn_topo_input inputs[HN_TOPO_MAX_INPUTS];

    int nparticles;             /* event particles in YAML order */
    hn_topo_particle particles[HN_TOPO_MAX_PARTICLES];
    hn_topo_group event_group;  /* G_E over the particles (degree = nparticles) */

    /* Upstream's event_transpositions: the pairs (a, b), a < b, of sympy's transpositions() of every
     * element of G_E (each cycle (c0 c1 … cn), smallest first, gives (c0,cn) … (c0,c1)); sorted. */
    int ntranspositions;
    int transpositions[HN_TOPO_MAX_PAIRS][2];

    int nclusters;              /* orbits of G_E, ordered by their smallest member; singletons included */
    hn_topo_cluster clusters[HN_TOPO_MAX_PARTICLES];

    /* Upstream's order: EVENT, then per particle (EVENT order) PARTICLE and its products (product
     * order); YAML order within one node. */
    int nregressions;
    hn_topo_target regressions[HN_TOPO_MAX_TARGETS];
    int nclassifications;
    hn_topo_target classifications[HN_TOPO_MAX_TARGETS];
} hn_topology;

/* Reads and checks a topology file. 0 on success; -1 after printing a located error (t is then
 * released and zeroed, so hn_topology_free on it is harmless). The struct is large (~60 KB). */
int hn_topology_read(const char *path, hn_topology *t);
/* Releases the group tables and the source text; t is zeroed. */
void hn_topology_free(hn_topology *t);

/* Helpers for consumers. */
const char *hn_topo_input_kind_name(hn_topo_input_kind k);         /* "SEQUENTIAL", "GLOBAL", "RELATIVE" */
const char *hn_topo_regression_type_name(hn_topo_regression_type k); /* "gaussian", … */

#endif
