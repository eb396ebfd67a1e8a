/* fold.c — see hepnc/fold.h. */
#include "hepnc/fold.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void hn_fold_batchnorm_linear(int before, int out, int in, const float *W, const float *b, const float *gamma,
                              const float *beta, const float *mean, const float *var, float eps, float *W2,
                              float *b2)
{
    for (int o = 0; o < out; ++o) {
        double bias = b ? b[o] : 0.0;
        if (before) {
            for (int i = 0; i < in; ++i) {
                double s = gamma[i] / sqrt((double)var[i] + eps);
                W2[(size_t)o * in + i] = (float)(W[(size_t)o * in + i] * s);
                bias += W[(size_t)o * in + i] * (beta[i] - mean[i] * s);
            }
            b2[o] = (float)bias;
        } else {
            double s = gamma[o] / sqrt((double)var[o] + eps);
            for (int i = 0; i < in; ++i) W2[(size_t)o * in + i] = (float)(W[(size_t)o * in + i] * s);
            b2[o] = (float)(s * (bias - mean[o]) + beta[o]);
        }
    }
}

int hn_fold_headscale(int heads, int out, int in, float *W, float *b, const float *c)
{
    int d = out / heads;
    float *copy = malloc(sizeof(float) * (size_t)out * (size_t)(in + 1));
    if (!copy) return -1;
    memcpy(copy, W, sizeof(float) * (size_t)out * (size_t)in);
    memcpy(copy + (size_t)out * in, b, sizeof(float) * (size_t)out);
    for (int h = 0; h < heads; ++h)
        for (int t = 0; t < d; ++t) {
            int from = h * d + t, to = t * heads + h;
            for (int i = 0; i < in; ++i) W[(size_t)to * in + i] = c[h] * copy[(size_t)from * in + i];
            b[to] = c[h] * copy[(size_t)out * in + from];
        }
    free(copy);
    return 0;
}

void hn_fold_edge_split(int out, int C, float *W)
{
    for (int o = 0; o < out; ++o)
        for (int c = 0; c < C; ++c) W[(size_t)o * 2 * C + c] -= W[(size_t)o * 2 * C + C + c];
}
