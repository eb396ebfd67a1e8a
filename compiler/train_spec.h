/* train_spec.h — the `train:` section of a spec: checked by the front-end (types, ranges, unknown keys
 * with "did you mean") and kept as settings for `hepnc train` (docs/spec.md). */
#ifndef HN_TRAIN_SPEC_H
#define HN_TRAIN_SPEC_H

#include "spec.h"

typedef struct hn_train_settings {
    char loss[32];              /* cross_entropy | focal | bce | mse */
    double label_smoothing;
    double focal_alpha, focal_gamma;
    char optimizer[16];         /* sgd | adam | adamw | radam | ranger */
    double lr, weight_decay, momentum, beta1, beta2, eps;
    char schedule[16];          /* none | flat_decay | cosine | step */
    int warmup_epochs;
    int batch, epochs;
    long seed;
    double clip_grad;           /* 0: no clipping */
    int present;
} hn_train_settings;

/* Fills s with the defaults (weaver's ParT recipe where it has one) and the spec's values. */
int hn_parse_train(const hn_ast *train, hn_train_settings *s);

#endif
