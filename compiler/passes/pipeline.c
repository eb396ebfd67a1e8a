/* pipeline.c — the pass pipeline as one function. */
#include <string.h>

#include "passes.h"

typedef struct pass {
    const char *name;
    int (*run)(hn_graph *g);
} pass;

static const pass pipeline[] = {
    { "lower", NULL },          /* already done by hn_lower; listed so --dump=lower works */
    { "fold", hn_pass_fold },
    { "fuse", hn_pass_fuse },
    { "plan", hn_pass_plan },
};

int hn_pass_known(const char *name)
{
    for (size_t i = 0; i < sizeof pipeline / sizeof *pipeline; ++i)
        if (strcmp(pipeline[i].name, name) == 0) return 1;
    return 0;
}

int hn_run_passes(hn_graph *g, const char *dump_after, FILE *dump)
{
    for (size_t i = 0; i < sizeof pipeline / sizeof *pipeline; ++i) {
        const pass *p = &pipeline[i];
        if (p->run && p->run(g)) return -1;
        if (hn_pass_check(g)) {
            fprintf(stderr, "hepnc: internal error: the IR is inconsistent after pass '%s'\n", p->name);
            return -1;
        }
        if (dump_after && strcmp(dump_after, p->name) == 0) hn_graph_dump(dump, g, p->name);
    }
    return 0;
}
