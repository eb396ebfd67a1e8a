/* emit_cuda.h — the CUDA target: NAME.cu (device kernels, NVRTC) and NAME_cuda_launch.h. */
#ifndef HN_EMIT_CUDA_H
#define HN_EMIT_CUDA_H

#include "ir.h"

int hn_emit_cuda(const hn_graph *g, const char *spec_path, const char *dir, char files[][512], int *nfiles);
/* NVRTC compile of a .cu for each architecture ("sm_80", …); with check_spills, ptxas -warn-spills on
 * the PTX and a failure if any kernel spills. */
int hn_validate_cuda(const char *cu_path, const char *const *archs, int narchs, int check_spills);

#endif
