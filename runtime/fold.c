/* fold.c — see hepnc/fold.h. */
#include "hepnc/fold.h"

#include <math.h>
#include <stddef.h>

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
