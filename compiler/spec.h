/* spec.h — the spec AST: the YAML document as a tree in which every node keeps its location.
 *
 * Only lower.c reads this tree; nothing after lowering sees the spec. */
#ifndef HN_SPEC_H
#define HN_SPEC_H

#include "diag.h"

typedef enum { HN_AST_SCALAR, HN_AST_SEQ, HN_AST_MAP } hn_ast_kind;

typedef struct hn_ast {
    hn_ast_kind kind;
    hn_loc loc;
    char *text;                 /* scalar value */
    int plain;                  /* scalar was unquoted (so "5" quoted is a string, 5 plain a number) */
    int n;                      /* number of items (seq) or entries (map) */
    struct hn_ast **items;      /* seq items, or map values */
    struct hn_ast **keys;       /* map keys (scalars) */
} hn_ast;

typedef struct hn_spec {
    hn_source src;
    hn_ast *root;               /* a mapping, checked by hn_spec_parse */
} hn_spec;

/* Reads and parses one spec file. Prints a located error and returns -1 on failure. */
int hn_spec_parse(hn_spec *spec, const char *path);
void hn_spec_free(hn_spec *spec);

/* Helpers for walking the tree. */
const hn_ast *hn_ast_get(const hn_ast *map, const char *key);       /* NULL if absent */
const char *hn_ast_kind_name(hn_ast_kind k);

#endif
