/* sm_interaction.cuh — the Standard-Model interaction matrix of an object set, one thread per slot pair:
 * the same table, running couplings and double arithmetic as templates/c/sm_interaction.h (read its
 * header for the formulas); every slot pair is written, padding pairs 0. Constants c: alpha_s, alpha,
 * mu0, g_z; mode 0 ids, 1 const, 2 running. */
#ifndef HN_CU_SM_INTERACTION_CUH
#define HN_CU_SM_INTERACTION_CUH

__device__ int hn_cu_sm_id(const float *row, const int *flag_cols)
{
    for (int k = 0; k < 7; ++k)
        if (row[flag_cols[k]] > 0.5f) return k + 1;
    return 0;
}

__device__ double hn_cu_sm_coupling(int a, int b, double gs, double ge, double gz)
{
    if (a > b) { int t = a; a = b; b = t; }
    bool quark_a = a == 1 || a == 2, lepton_a = a >= 3 && a <= 6;
    if (quark_a && (b == 1 || b == 2)) return gs;
    if (b == 7) return a == 1 ? ge / 2 : a == 2 ? ge / 3 : lepton_a ? ge : 0.0;
    if ((a == 3 && b == 4) || (a == 5 && b == 6)) return gz;
    return 0.0;
}

__device__ void hn_cu_sm_interaction(const float *x, int nfeat, const int *flag_cols, const float *p4, const int *n, int batch,
                                     int max, int mode, const double *c, float *y)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * max * max) return;
    int b = (int)(idx / ((long)max * max)), pair = (int)(idx % ((long)max * max)), ra = pair / max, rb = pair % max;
    int cnt = n ? n[b] : max;
    if (ra >= cnt || rb >= cnt) { y[idx] = 0.0f; return; }
    const float *xa = x + ((long)b * max + ra) * nfeat, *xb = x + ((long)b * max + rb) * nfeat;
    int ia = hn_cu_sm_id(xa, flag_cols), ib = hn_cu_sm_id(xb, flag_cols);
    if (mode == 0) { y[idx] = hn_cu_sm_coupling(ia, ib, 1.0, 1.0, 1.0) != 0.0 ? 1.0f : 0.0f; return; }
    const float *pa = p4 + ((long)b * max + ra) * 4, *pb = p4 + ((long)b * max + rb) * 4;
    double q = mode == 2 ? 0.5 * (sqrt((double)pa[0] * pa[0] + (double)pa[1] * pa[1]) + sqrt((double)pb[0] * pb[0] + (double)pb[1] * pb[1]))
                         : c[2];
    const double pi = 3.14159265358979323846;
    double l = 2.0 * log((q > 1.0 ? q : 1.0) / c[2]);
    double as = c[0] / (1.0 + c[0] * (33.0 - 12.0) / (12.0 * pi) * l);
    double al = c[1] / (1.0 - c[1] * 3.0 / (3.0 * pi) * l);
    y[idx] = (float)hn_cu_sm_coupling(ia, ib, sqrt(4.0 * pi * as), sqrt(4.0 * pi * al), c[3]);
}

#endif
