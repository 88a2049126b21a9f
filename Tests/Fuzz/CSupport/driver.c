// Only fuzz_driver.h matters: LLVMFuzzerRunDriver is libFuzzer's. SwiftPM wants one source.
#include "fuzz_driver.h"
