/* mock_model.c — see mock_model.h. */
#include "mock_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/loss.h>
#include <hepnc/rng.h>
#include <hepnc/weights.h>

enum { W = 0, C = 6, RM = 8, WD = 11, CD = 17, NF = 3, NC = 2 };

static const char *const part_features[] = { "a", "b" };
static const char *const jet_features[] = { "j" };
static const hn_io_desc inputs[] = {
    { "particles", 1, 1, MOCK_MAX, 2, 2, part_features, -1, -1 },
    { "jet", 0, 0, 1, 1, 1, jet_features, -1, -1 },
};
static const hn_io_desc outputs[] = {
    { "logits", 0, 0, 1, NC, 0, NULL, -1, -1 },
    { "scores", 0, 0, 1, NC, 0, NULL, -1, -1 },
};

typedef struct mock_model { const float *params; void *owner; } mock_model;   /* NAME_model's layout */

/* The event's features f (double). Returns -1 for a count out of range. */
static int features(const float *const *x, const int32_t *const *counts, int e, double *f)
{
    int n = counts[0][e];
    if (n < 0 || n > MOCK_MAX) return -1;
    f[0] = f[1] = 0;
    for (int r = 0; r < n; ++r) {
        f[0] += x[0][(e * MOCK_MAX + r) * 2 + 0];
        f[1] += x[0][(e * MOCK_MAX + r) * 2 + 1];
    }
    if (n) { f[0] /= n; f[1] /= n; }
    f[2] = x[1][e];
    return 0;
}

static int fold(float *P)
{
    for (int k = 0; k < NC; ++k) {
        double c = P[C + k];
        for (int j = 0; j < NF; ++j) {
            P[WD + k * NF + j] = P[W + k * NF + j];
            c -= (double)P[W + k * NF + j] * P[RM + j];
        }
        P[CD + k] = (float)c;
    }
    return 0;
}

static size_t infer_ws(int batch) { (void)batch; return 0; }

static int infer(const void *model, const float *const *x, const int32_t *const *counts, int batch, float *const *y,
                 void *workspace)
{
    (void)workspace;
    if (batch < 0) return HN_ERR_BATCH;
    const float *P = ((const mock_model *)model)->params;
    for (int e = 0; e < batch; ++e) {
        double f[NF], z[NC];
        if (features(x, counts, e, f)) return HN_ERR_SET_SIZE;
        for (int k = 0; k < NC; ++k) {
            z[k] = P[CD + k];
            for (int j = 0; j < NF; ++j) z[k] += (double)P[WD + k * NF + j] * f[j];
            y[0][e * NC + k] = (float)z[k];
        }
        double m = fmax(z[0], z[1]), s = exp(z[0] - m) + exp(z[1] - m);
        for (int k = 0; k < NC; ++k) y[1][e * NC + k] = (float)(exp(z[k] - m) / s);
    }
    return HN_OK;
}

static const char *const file_names[] = { "fc.weight", "fc.bias", "norm.running_mean" };
static const size_t file_offsets[] = { W, C, RM };
static const int file_ndim[] = { 2, 1, 1 };
static const int64_t file_shapes[][2] = { { NC, NF }, { NC, 0 }, { NF, 0 } };

static int load(void **model, const char *path, char *err, size_t errlen)
{
    hn_weights *w = hn_weights_open(path, err, errlen);
    if (!w) return 1;
    float *P = calloc(MOCK_PARAM_FLOATS, sizeof(float));
    mock_model *m = calloc(1, sizeof *m);
    int rc = !P || !m;
    for (int i = 0; !rc && i < 3; ++i)
        rc = hn_weights_copy_f32(w, file_names[i], file_ndim[i], file_shapes[i], P + file_offsets[i], err, errlen);
    hn_weights_close(w);
    if (rc) { free(P); free(m); return 1; }
    fold(P);
    m->params = P;
    m->owner = P;
    *model = m;
    return 0;
}

static void release(void *model)
{
    if (!model) return;
    free(((mock_model *)model)->owner);
    free(model);
}

static const hn_model_entry model_entry = {
    HN_MODEL_ABI, "mock", "00000000000000aa", 2, inputs, 2, outputs, infer_ws, load, release, infer,
};

static size_t train_ws(int batch) { return sizeof(float) * (size_t)batch * 2 * NC; }

static int train_step(float *params, float *grads, const float *const *x, const int32_t *const *counts,
                      const int64_t *labels, const float *weights, int batch, const hn_train_config *cfg, uint64_t seed,
                      float *logits_out, double *loss_out, void *workspace)
{
    if (batch < 0) return HN_ERR_BATCH;
    float *z = workspace, *gz = z + (size_t)batch * NC;
    double mean[NF] = { 0 };
    memset(grads, 0, sizeof(float) * MOCK_PARAM_FLOATS);
    for (int e = 0; e < batch; ++e) {
        double f[NF];
        if (features(x, counts, e, f)) return HN_ERR_SET_SIZE;
        if (labels[e] < 0 || labels[e] >= NC) return HN_ERR_LABEL;
        uint64_t st = hn_rng_stream(seed, 1, (uint64_t)e);
        for (int k = 0; k < NC; ++k) {
            double v = params[C + k];
            for (int j = 0; j < NF; ++j) v += (double)params[W + k * NF + j] * (f[j] - params[RM + j]);
            if (cfg->training) v += 0.01 * (hn_rng_uniform(&st) - 0.5);
            z[e * NC + k] = (float)v;
        }
        for (int j = 0; j < NF; ++j) mean[j] += f[j] / batch;
    }
    double loss = cfg->loss == HN_LOSS_FOCAL
                      ? hn_loss_focal(z, labels, weights, (size_t)batch, NC, cfg->focal_alpha, NULL, cfg->focal_gamma, gz)
                      : hn_loss_cross_entropy(z, labels, weights, (size_t)batch, NC, cfg->label_smoothing, gz);
    for (int e = 0; e < batch; ++e) {
        double f[NF] = { 0 };
        features(x, counts, e, f);
        for (int k = 0; k < NC; ++k) {
            grads[C + k] += gz[e * NC + k];
            for (int j = 0; j < NF; ++j) grads[W + k * NF + j] += (float)(gz[e * NC + k] * (f[j] - params[RM + j]));
        }
    }
    if (cfg->training)
        for (int j = 0; j < NF; ++j)
            params[RM + j] = (float)((1 - cfg->bn_momentum) * params[RM + j] + cfg->bn_momentum * mean[j]);
    if (logits_out) memcpy(logits_out, z, sizeof(float) * (size_t)batch * NC);
    *loss_out = loss;
    return HN_OK;
}

static const hn_param_desc params[] = {
    { "fc.weight", W, NC * NF, 2, { NC, NF }, 1 },
    { "fc.bias", C, NC, 1, { NC }, 1 },
    { "norm.running_mean", RM, NF, 1, { NF }, 0 },
};

static const hn_train_entry train_entry = {
    HN_TRAIN_ABI, "mock", "00000000000000aa", &model_entry, NC, "logits", MOCK_PARAM_FLOATS, 3, params,
    train_ws, train_step, fold, NULL,
};

const hn_train_entry *mock_train_entry(void) { return &train_entry; }
