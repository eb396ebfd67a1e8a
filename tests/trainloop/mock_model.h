/* mock_model.h — a hand-written training entry (hepnc/train_entry.h) with the layout of generated code,
 * for the trainer's tests: a logistic regression on the mean of a masked set's rows and a per-event
 * feature, centred by a running mean (a buffer updated in training mode, as BatchNorm's):
 *
 *   inputs   particles [4][2] (masked set: features a, b), jet [1] (per event: j)
 *   f        (mean_rows(a), mean_rows(b), j)              (0 for an event without rows)
 *   z        W (f − rm) + c   (+ 0.01·(u − ½) per logit in training mode, u from the step seed:
 *                              dropout's stand-in, so a wrong seed changes the trajectory)
 *   outputs  logits z [2], scores softmax(z) [2]
 *
 * Blob (MOCK_PARAM_FLOATS floats): fc.weight [2][3] @0, fc.bias [2] @6, norm.running_mean [3] @8
 * (trainable 0), then the derived slots that fold fills, W' = W @11 and c' = c − W·rm @17, which infer
 * reads: validation without fold would see zeros. */
#ifndef MOCK_MODEL_H
#define MOCK_MODEL_H

#include <hepnc/train_entry.h>

#define MOCK_PARAM_FLOATS 19u
#define MOCK_MAX 4

const hn_train_entry *mock_train_entry(void);

#endif
