// Whether CUDA devices can be used: the CUDA runtime's query, for the layers above core (which
// include nothing of kernels/). Without CUDA (RTSEG_CUDA=OFF) core/cuda_stub.cpp answers "none".
#pragma once

#include "kernels/cuda/runtime/availability.h"
