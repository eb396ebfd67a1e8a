/* common.h — what every kernel template needs. Pasted first into generated code. */
#ifndef HN_K_COMMON_H
#define HN_K_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A generated file may not use every kernel. */
#define HN_K_UNUSED __attribute__((unused))

#endif
