/* backward_edgeconv.h — training-mode EdgeConv (ParticleNet) and its backward. To be written. */
#ifndef HN_KB_EDGECONV_H
#define HN_KB_EDGECONV_H

#ifndef HN_K_EDGECONV_H
#include "edgeconv.h"
#endif

#endif
