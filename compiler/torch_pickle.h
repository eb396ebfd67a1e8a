/* torch_pickle.h — a minimal pickle virtual machine for PyTorch checkpoints (archive/data.pkl).
 *
 * It builds a generic object tree and never calls anything: GLOBAL gives a (module, name) object,
 * REDUCE/NEWOBJ a "call" object holding the callable and its arguments, BINPERSID a persistent-id
 * object holding the pid (PyTorch's ('storage', StorageType, key, location, numel) tuple), BUILD sets
 * the object's state. SETITEM(S) work on dicts and on calls (an OrderedDict is
 * REDUCE(collections.OrderedDict, ()) followed by SETITEMS). The opcodes are those protocols 2–4
 * produce for a state_dict; any other is reported with its byte offset.
 *
 * Every object belongs to the hn_pickle that parsed it and is freed with it. */
#ifndef HN_TORCH_PICKLE_H
#define HN_TORCH_PICKLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum hn_pkind {
    HN_PK_NONE, HN_PK_BOOL, HN_PK_INT, HN_PK_FLOAT, HN_PK_STR, HN_PK_BYTES,
    HN_PK_TUPLE, HN_PK_LIST, HN_PK_DICT,
    HN_PK_GLOBAL,       /* module, name */
    HN_PK_CALL,         /* REDUCE/NEWOBJ: callable, args; items hold SETITEMS on it (pairs) */
    HN_PK_PERSID,       /* BINPERSID: args = the pid */
    HN_PK_MARK          /* internal */
} hn_pkind;

typedef struct hn_pobj hn_pobj;
struct hn_pobj {
    hn_pkind kind;
    int64_t i;              /* BOOL, INT */
    double f;               /* FLOAT */
    char *s;                /* STR, BYTES (NUL-terminated copy), GLOBAL: module */
    size_t slen;
    char *name;             /* GLOBAL: name */
    hn_pobj **items;        /* TUPLE, LIST: elements; DICT, CALL: key, value, key, value, … */
    int n, cap;             /* number of entries in items */
    hn_pobj *callable, *args;   /* CALL; PERSID: args */
    hn_pobj *state;         /* BUILD */
};

typedef struct hn_pickle hn_pickle;

/* Parses data[0..len) up to STOP. NULL and a message "WHAT: …" (what names the stream, e.g.
 * "model.pt: archive/data.pkl") on failure: truncation, an unknown opcode (with its offset), a
 * stack underflow, a memo index never stored. */
hn_pickle *hn_pickle_parse(const unsigned char *data, size_t len, const char *what, char *err, size_t errlen);
const hn_pobj *hn_pickle_root(const hn_pickle *p);
void hn_pickle_free(hn_pickle *p);

/* Helpers. */
int hn_pobj_is_global(const hn_pobj *o, const char *module, const char *name);
/* The key/value entries of a DICT, or of a CALL of collections.OrderedDict (or another dict-like call);
 * n = number of pairs; NULL and n = 0 otherwise. */
hn_pobj *const *hn_pobj_dict_items(const hn_pobj *o, int *n);

#endif
