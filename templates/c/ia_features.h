/* ia_features.h — IAFormer's 11 particle features of a jet from its constituents' 4-vectors, as upstream's
 * graph builder computes them (github.com/wesmail/IAFormer, utils/graph_builder.py). Used by
 * `hepnc convert iaformer` and checked against upstream by tests/parity/iaformer_features.c. Needs only libm. */
#ifndef HN_K_IA_FEATURES_H
#define HN_K_IA_FEATURES_H

#include <math.h>
#include <stddef.h>

#ifndef HN_K_UNUSED
#define HN_K_UNUSED __attribute__((unused))
#endif

#define HN_IA_PARTICLE_NUM 11

/* Upstream's 11 features of each of the n rows of one jet, into f [n][11]: E, px, py, pz, ln pT, ln E,
 * ln(pT/pT_J), ln(E/E_J), Δη = η − η_J, Δφ = φ − φ_J (not wrapped, as upstream), ΔR = hypot(Δη, Δφ); the jet J
 * is the float32 sum of the real (E > 0) rows in order; padded rows are all zero. float32 as upstream's arrays. */
static HN_K_UNUSED void hn_k_ia_particle_features(const float *p4, int n, float *f)
{
    float px = 0.0f, py = 0.0f, pz = 0.0f, e = 0.0f;
    for (int a = 0; a < n; ++a) {
        const float *v = p4 + (size_t)a * 4;
        if (v[3] > 0.0f) {
            px += v[0];
            py += v[1];
            pz += v[2];
            e += v[3];
        }
    }
    const float jx2 = px * px, jy2 = py * py, jpt = sqrtf(jx2 + jy2);
    const float jeta = jpt > 0.0f ? asinhf(pz / jpt) : 0.0f, jphi = atan2f(py, px);
    for (int a = 0; a < n; ++a) {
        const float *v = p4 + (size_t)a * 4;
        float *o = f + (size_t)a * HN_IA_PARTICLE_NUM;
        if (!(v[3] > 0.0f)) {
            for (int k = 0; k < HN_IA_PARTICLE_NUM; ++k) o[k] = 0.0f;
            continue;
        }
        const float x2 = v[0] * v[0], y2 = v[1] * v[1], pt = sqrtf(x2 + y2);
        const float eta = pt > 0.0f ? asinhf(v[2] / pt) : 0.0f, phi = atan2f(v[1], v[0]);
        o[0] = v[3];
        o[1] = v[0];
        o[2] = v[1];
        o[3] = v[2];
        o[4] = logf(pt);
        o[5] = logf(v[3]);
        o[6] = logf(pt / jpt);
        o[7] = logf(v[3] / e);
        o[8] = eta - jeta;
        o[9] = phi - jphi;
        o[10] = hypotf(o[8], o[9]);
    }
}

#endif
