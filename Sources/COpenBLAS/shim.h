// Declarations only: Engine opens libopenblas at run time (see Engine/Kernels/BLASLoader.swift)
// so that OPENBLAS_CORETYPE can be chosen before the library's constructor reads it.
#include <x86_64-linux-gnu/openblas-pthread/cblas.h>
