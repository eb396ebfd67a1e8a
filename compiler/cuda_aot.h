/* cuda_aot.h — see cuda_aot.c. */
#ifndef HN_CUDA_AOT_H
#define HN_CUDA_AOT_H

#include <stddef.h>

/* nvcc -fatbin of cu_path for archs ("sm_80,sm_90"): the image in *image (malloc'd), its bytes in *size.
 * 0, or an error message and non-zero (nvcc's own messages pass through to stderr). */
int hn_cuda_aot_build(const char *cu_path, const char *archs, unsigned char **image, size_t *size);

#endif
