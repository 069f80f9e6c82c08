// The functional op API. Every op checks its inputs' shapes, dtypes and devices, dispatches to
// the kernel for the tensors' device, and records one autograd node.
#pragma once

#include "core/ops/activation.h"
#include "core/ops/conv.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/norm.h"
#include "core/ops/pool.h"
#include "core/ops/reduce.h"
#include "core/ops/resize.h"
#include "core/ops/sgd_update.h"
#include "core/ops/shape_ops.h"
#include "core/ops/softmax.h"
