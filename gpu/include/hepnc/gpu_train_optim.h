/* gpu_train_optim.h — (being written) the GPU optimiser. */
#ifndef HEPNC_GPU_TRAIN_OPTIM_H
#define HEPNC_GPU_TRAIN_OPTIM_H
#include "gpu_train.h"
#endif
