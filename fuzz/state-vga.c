/* The vga record through check() and load(), then guest operations. */
#include <stdlib.h>

#include "fuzz/fuzz.h"

FUZZ_STATE_TARGET("vga")
