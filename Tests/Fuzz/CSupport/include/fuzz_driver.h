#ifndef TOKENVAULT_FUZZ_DRIVER_H
#define TOKENVAULT_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (libclang_rt.fuzzer): SwiftPM names a debug executable's entry point
// `MODULE_main` and makes `main` point at it, so each fuzz target defines that function and
// hands its arguments to libFuzzer here (FuzzSupport's `Fuzz.main`).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
