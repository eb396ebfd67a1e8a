/* spec.c — YAML → spec AST with libyaml's event parser.
 *
 * libyaml reports its own errors with a mark; they are re-emitted in the project's format. Aliases and
 * duplicate keys are refused: a spec should say each thing once, where it is read. */
#include "spec.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct parse_ctx {
    yaml_parser_t parser;
    hn_spec *spec;
} parse_ctx;

static hn_loc mark_loc(const parse_ctx *c, yaml_mark_t m)
{
    hn_loc loc = { &c->spec->src, (int)m.line + 1, (int)m.column + 1 };
    return loc;
}

static int yaml_failure(parse_ctx *c)
{
    yaml_parser_t *p = &c->parser;
    const char *what = p->problem ? p->problem : "malformed YAML";
    if (p->context) {
        hn_error(mark_loc(c, p->problem_mark), "malformed YAML: %s %s", what, p->context);
        if (p->context_mark.line != p->problem_mark.line || p->context_mark.column != p->problem_mark.column)
            hn_note(mark_loc(c, p->context_mark), "the construct that is not closed starts here");
        return -1;
    }
    return hn_error(mark_loc(c, p->problem_mark), "malformed YAML: %s", what);
}

static int next_event(parse_ctx *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->parser, ev))
        return yaml_failure(c);
    return 0;
}

static hn_ast *new_node(hn_ast_kind kind, hn_loc loc)
{
    hn_ast *a = calloc(1, sizeof *a);
    if (a) { a->kind = kind; a->loc = loc; }
    return a;
}

static int push(hn_ast *parent, hn_ast *key, hn_ast *item)
{
    hn_ast **items = realloc(parent->items, sizeof *items * (size_t)(parent->n + 1));
    if (!items) return -1;
    parent->items = items;
    if (key) {
        hn_ast **keys = realloc(parent->keys, sizeof *keys * (size_t)(parent->n + 1));
        if (!keys) return -1;
        parent->keys = keys;
        keys[parent->n] = key;
    }
    items[parent->n++] = item;
    return 0;
}

static void free_ast(hn_ast *a)
{
    if (!a) return;
    for (int i = 0; i < a->n; ++i) {
        free_ast(a->items[i]);
        if (a->keys) free_ast(a->keys[i]);
    }
    free(a->items);
    free(a->keys);
    free(a->text);
    free(a);
}

static int parse_node(parse_ctx *c, yaml_event_t *ev, hn_ast **out);

static int parse_mapping(parse_ctx *c, hn_ast *map)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(c, &ev)) return -1;
        if (ev.type == YAML_MAPPING_END_EVENT) { yaml_event_delete(&ev); return 0; }
        hn_ast *key = NULL, *val = NULL;
        int rc = parse_node(c, &ev, &key);
        yaml_event_delete(&ev);
        if (rc) return -1;
        if (key->kind != HN_AST_SCALAR) {
            hn_error(key->loc, "a mapping key must be a plain name, not a %s", hn_ast_kind_name(key->kind));
            free_ast(key);
            return -1;
        }
        if (hn_ast_get(map, key->text)) {
            hn_error(key->loc, "duplicate key '%s'", key->text);
            hn_note(hn_ast_get(map, key->text)->loc, "'%s' was first given here", key->text);
            free_ast(key);
            return -1;
        }
        if (next_event(c, &ev)) { free_ast(key); return -1; }
        rc = parse_node(c, &ev, &val);
        yaml_event_delete(&ev);
        if (rc || push(map, key, val)) { free_ast(key); free_ast(val); return -1; }
    }
}

static int parse_sequence(parse_ctx *c, hn_ast *seq)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(c, &ev)) return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) { yaml_event_delete(&ev); return 0; }
        hn_ast *item = NULL;
        int rc = parse_node(c, &ev, &item);
        yaml_event_delete(&ev);
        if (rc || push(seq, NULL, item)) { free_ast(item); return -1; }
    }
}

/* Builds the node that starts with event `ev` (consumed by the caller). */
static int parse_node(parse_ctx *c, yaml_event_t *ev, hn_ast **out)
{
    hn_loc loc = mark_loc(c, ev->start_mark);
    *out = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        hn_ast *a = new_node(HN_AST_SCALAR, loc);
        if (!a) return hn_error(loc, "out of memory");
        a->text = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        a->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (strlen(a->text) != ev->data.scalar.length) {
            free_ast(a);
            return hn_error(loc, "a value contains a NUL byte");
        }
        *out = a;
        return 0;
    }
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        hn_ast *a = new_node(is_map ? HN_AST_MAP : HN_AST_SEQ, loc);
        if (!a) return hn_error(loc, "out of memory");
        if ((is_map ? parse_mapping(c, a) : parse_sequence(c, a))) { free_ast(a); return -1; }
        *out = a;
        return 0;
    }
    case YAML_ALIAS_EVENT:
        return hn_error(loc, "YAML aliases (*name) are not supported in a spec; write the value out");
    default:
        return hn_error(loc, "unexpected YAML structure");
    }
}

/* Skips the stream and document start events, parses the root, and checks there is one document. */
static int parse_document(parse_ctx *c, hn_ast **root)
{
    yaml_event_t ev;
    *root = NULL;
    if (next_event(c, &ev)) return -1;                        /* STREAM_START */
    yaml_event_delete(&ev);
    if (next_event(c, &ev)) return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        hn_loc loc = { &c->spec->src, 1, 1 };
        return hn_error(loc, "the spec is empty: it needs at least 'name', 'inputs', 'layers' and 'outputs'");
    }
    yaml_event_delete(&ev);                                    /* DOCUMENT_START */
    if (next_event(c, &ev)) return -1;
    int rc = parse_node(c, &ev, root);
    yaml_event_delete(&ev);
    if (rc) return -1;
    if (next_event(c, &ev)) return -1;                        /* DOCUMENT_END */
    yaml_event_delete(&ev);
    if (next_event(c, &ev)) return -1;
    int extra = ev.type == YAML_DOCUMENT_START_EVENT;
    hn_loc loc = mark_loc(c, ev.start_mark);
    yaml_event_delete(&ev);
    if (extra)
        return hn_error(loc, "a spec file holds one YAML document; remove the second '---'");
    return 0;
}

int hn_spec_parse(hn_spec *spec, const char *path)
{
    memset(spec, 0, sizeof *spec);
    if (hn_source_read(&spec->src, path)) return -1;
    parse_ctx c = { .spec = spec };
    if (!yaml_parser_initialize(&c.parser))
        return hn_error_plain("%s: error: cannot initialise the YAML parser", path);
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)spec->src.text, (size_t)spec->src.length);
    int rc = parse_document(&c, &spec->root);
    yaml_parser_delete(&c.parser);
    if (rc) return -1;
    if (!spec->root || spec->root->kind != HN_AST_MAP) {
        hn_loc loc = spec->root ? spec->root->loc : (hn_loc){ &spec->src, 1, 1 };
        if (spec->root && spec->root->kind == HN_AST_SCALAR && spec->root->text[0] == '\0')
            return hn_error(loc, "the spec is empty: it needs at least 'name', 'inputs', 'layers' and 'outputs'");
        return hn_error(loc, "the spec must be a mapping with keys 'name', 'inputs', 'layers', 'outputs'");
    }
    return 0;
}

void hn_spec_free(hn_spec *spec)
{
    free_ast(spec->root);
    hn_source_free(&spec->src);
}

const hn_ast *hn_ast_get(const hn_ast *map, const char *key)
{
    if (!map || map->kind != HN_AST_MAP) return NULL;
    for (int i = 0; i < map->n; ++i)
        if (strcmp(map->keys[i]->text, key) == 0)
            return map->items[i];
    return NULL;
}

const char *hn_ast_kind_name(hn_ast_kind k)
{
    return k == HN_AST_SCALAR ? "scalar" : k == HN_AST_SEQ ? "list" : "mapping";
}
