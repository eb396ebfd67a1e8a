/* emit_train.h — the training emitter: NAME_train.c (forward in training mode, loss, backward, and
 * `hepnc_train_entry`, hepnc/train_entry.h) from a graph planned by hn_pass_plan_train. It builds
 * against the same spec's NAME.h / NAME_load.c (NAME_fold) and links libhepnc (the losses). */
#ifndef HN_EMIT_TRAIN_H
#define HN_EMIT_TRAIN_H

#include "emit_c.h"

/* Fails, naming the layer, when a node the loss depends on has no backward rule. */
int hn_emit_train_check(const hn_graph *g);
/* Writes dir/NAME_train.c atomically; path_out (512 bytes) receives its path. */
int hn_emit_train(const hn_graph *g, const hn_emit_options *opt, const char *dir, char *path_out);

#endif
