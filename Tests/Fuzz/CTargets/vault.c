// vault's C front end (Sources/vault/main.c): the agent's answer to `vault get NAME`
// (token_from_agent on a socket whose other end sends the input). Properties: no crash
// (AddressSanitizer), and stderr never holds a byte that drives a terminal (a warning the
// agent rendered is printed only when printable, else escaped).
#define main vault_main
#include "../../../Sources/vault/main.c"
#undef main
#include "front_end_fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_front_end_initialize();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    // The first byte: the name the command runs as (`vault` or `tokenvault`), and --allow-expired.
    invoked = data[0] & 1 ? TV_PROGRAM_ALTERNATIVE : TV_PROGRAM_CANONICAL;
    int peer;
    int fd = fuzz_agent(data + 1, size - 1, &peer);
    struct stat file = {0};
    struct caught caught;
    catch_stderr(&caught);
    token_from_agent(fd, &file, "github", 6, data[0] & 2);
    release_stderr(&caught);
    check_printable(&caught, 0);
    free(caught.text);
    close(fd);
    close(peer);
    return 0;
}
