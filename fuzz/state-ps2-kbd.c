/* The ps2-kbd record through check() and load(), then guest operations. */
#include <stdlib.h>

#include "fuzz/fuzz.h"

FUZZ_STATE_TARGET("ps2-kbd")
