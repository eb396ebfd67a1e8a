/* emit_cuda_train_edgeconv.c — (being written) see emit_cuda_train_edgeconv.h. */
#include "emit_cuda_train_edgeconv.h"

int hn_cu_train_edge_conv_supported(const hn_graph *g, const hn_node *n)
{
    (void)g;
    (void)n;
    return 0;
}

void hn_cu_train_edge_conv(FILE *f, const hn_graph *g, const hn_node *n, int backward, const char *x0, const char *x1,
                           const char *y, const char *dy, const char *dx0)
{
    (void)f; (void)g; (void)n; (void)backward; (void)x0; (void)x1; (void)y; (void)dy; (void)dx0;
}

void hn_cu_train_edge_conv_extra(FILE *f, const hn_graph *g, const hn_node *n)
{
    (void)f; (void)g; (void)n;
}
