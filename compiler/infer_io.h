/* infer_io.h — see infer_io.c. */
#ifndef HN_INFER_IO_H
#define HN_INFER_IO_H

#include <hepnc/data.h>
#include <hepnc/model.h>

typedef struct hn_infer_buffers {
    float *x[16];               /* inputs, [batch][max][width] or [batch][width] */
    int32_t *n[16];             /* set counts */
    float *y[16];               /* outputs */
    int32_t *labels;
    void *workspace;
} hn_infer_buffers;

int hn_alloc_buffers(const hn_model_entry *m, int batch, hn_infer_buffers *b);
/* The same without the C object's workspace (b->workspace NULL): for a GPU object, whose workspace is on the device. */
int hn_alloc_io_buffers(const hn_model_entry *m, int batch, hn_infer_buffers *b);
void hn_free_buffers(const hn_model_entry *m, hn_infer_buffers *b);
/* Reads events [first, first+count) of every input (4-vectors from /<set>/vectors). */
int hn_read_inputs(hn_dataset *ds, const hn_model_entry *m, int64_t first, int count, hn_infer_buffers *b, char *err,
                   size_t errlen);

#endif
