/* softmax.h — softmax over the last axis, max-subtracted. y may alias x. */
#ifndef HN_K_SOFTMAX_H
#define HN_K_SOFTMAX_H

static HN_K_UNUSED void hn_k_softmax(const float *x, int rows, int dim, float *y)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        float m = xr[0];
        for (int i = 1; i < dim; ++i) m = xr[i] > m ? xr[i] : m;
        float sum = 0.0f;
        for (int i = 0; i < dim; ++i) { yr[i] = expf(xr[i] - m); sum += yr[i]; }
        float inv = 1.0f / sum;
        for (int i = 0; i < dim; ++i) yr[i] *= inv;
    }
}

#endif
