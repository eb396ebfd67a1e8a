/* fold.h — batchnorm folded into a linear layer's weights, shared by generated loaders and by the
 * compiler (for embedded weights), so that both fold with the same arithmetic. */
#ifndef HEPNC_FOLD_H
#define HEPNC_FOLD_H

#ifdef __cplusplus
extern "C" {
#endif

/* W is [out][in], b is [out] (NULL = zero bias). s = gamma / sqrt(var + eps) over the BN's channels.
 * before = 1: the BN normalises the linear's inputs (in channels); 0: its outputs (out channels).
 * Results go to W2 [out][in] and b2 [out]; computed in double, rounded once to float. */
void hn_fold_batchnorm_linear(int before, int out, int in, const float *W, const float *b, const float *gamma,
                              const float *beta, const float *mean, const float *var, float eps, float *W2,
                              float *b2);

#endif

#ifndef HEPNC_FOLD_HEADSCALE
#define HEPNC_FOLD_HEADSCALE
/* ParT's head scale (weaver-core 0.4: einsum('tbhd,h->tbdh') after out_proj) folded into out_proj, in
 * place: row h·d+t of W (and b) becomes row t·heads+h, scaled by c[h]; d = out/heads.
 * Returns 0, or -1 when the temporary copy cannot be allocated (load time only). */
int hn_fold_headscale(int heads, int out, int in, float *W, float *b, const float *c);
#endif

#ifndef HEPNC_FOLD_EDGE_SPLIT
#define HEPNC_FOLD_EDGE_SPLIT
/* EdgeConv's first convolution acts on [x_i, x_j − x_i]: W = [Wa | Wb] ([out][2C]) becomes
 * [Wa − Wb | Wb] in place, so that W·e_ij = (Wa − Wb)·x_i + Wb·x_j is computed per point, not per edge. */
void hn_fold_edge_split(int out, int C, float *W);
#ifdef __cplusplus
}
#endif

#endif
