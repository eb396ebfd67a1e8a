/* train_optim.c — (being written) host-side launches of templates/cuda/train_optim.cuh. */
#include "hepnc/gpu_train_optim.h"
