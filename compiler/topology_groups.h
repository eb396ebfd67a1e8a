/* topology_groups.h — the permutation groups of a SPANet event topology, for topology.c: the whole group
 * from its generators, and what upstream derives from the event group (event transpositions, clusters). */
#ifndef HN_TOPOLOGY_GROUPS_H
#define HN_TOPOLOGY_GROUPS_H

#include "topology.h"

/* g->elements from g->generators by BFS from the identity: element x (in discovery order) times each
 * generator s (in YAML order) gives y[i] = s[x[i]], appended when new. A located error at loc (too many
 * elements, out of memory) returns -1. */
int hn_topo_close_group(hn_topo_group *g, hn_loc loc);
/* t->transpositions from t->event_group (sympy's transpositions() of every element, as sorted pairs). */
void hn_topo_event_transpositions(hn_topology *t);
/* t->clusters: the orbits of the event group, named by upstream's longest common substring; -1 with an
 * error at event_group_loc when two exchanged particles differ in their number of products. */
int hn_topo_event_clusters(hn_topology *t, hn_loc event_group_loc);

#endif
