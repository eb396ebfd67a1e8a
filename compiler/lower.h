/* lower.h — spec AST → graph IR. The only pass that reads the spec. */
#ifndef HN_LOWER_H
#define HN_LOWER_H

#include "ir.h"
#include "spec.h"

int hn_lower(const hn_spec *spec, hn_graph *g);

/* For composite ops: adds primitive node `op` named `name` reading `inputs`, whose output tensor is
 * called `tensor`. Attributes not given take their schema defaults; set more with the returned node
 * before calling hn_finish_node. */
int hn_new_node(hn_graph *g, int op, const char *name, const hn_node *from, const int *inputs, int nin);
int hn_finish_node(hn_graph *g, int node, const char *tensor);   /* shape rule; returns the tensor */
int hn_set_attr_default(hn_node *n, int attr_index);
/* Sets an attribute of a node being built by a composite op. */
void hn_node_set_int(hn_node *n, const char *key, long value);
void hn_node_set_float(hn_node *n, const char *key, double value);
/* For composite ops: a primitive node `name` reading `in`, with up to two integer attributes set
 * (key NULL: none), whose output tensor is also called `name`. Returns the tensor, or -1. */
int hn_lower_node(hn_graph *g, int op, const char *name, const hn_node *from, const int *in, int nin,
                  const char *key1, long v1, const char *key2, long v2);
/* Renames parameter p (composite ops use it to keep the reference implementation's names). */
void hn_param_rename(hn_graph *g, int p, const char *name);

#endif
