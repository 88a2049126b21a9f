// git-credential-vault's readers (Sources/git-credential-vault/main.c): the first byte of the
// input chooses git's description on stdin (even: read_description, into a buffer of a size the
// second byte chooses) or the agent's answer to `get` (odd: answer_from_agent on a socket whose
// other end sends the rest). Properties: no crash (AddressSanitizer), a description read never
// longer than its buffer, and stderr only ever printable ASCII (every warning escaped).
#define main git_credential_vault_main
#include "../../../Sources/git-credential-vault/main.c"
#undef main
#include "front_end_fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_front_end_initialize();
    return 0;
}

static void description(const uint8_t *data, size_t size) {
    if (size == 0) return;
    size_t capacity = data[0] % 2 ? (size_t)data[0] : MAX_DESCRIPTION;
    data++;
    size--;
    int fds[2];
    if (pipe(fds) != 0) abort();
    size_t offset = 0;
    while (offset < size) {  // Inputs are at most the pipe's 64 KiB.
        ssize_t n = write(fds[1], data + offset, size - offset);
        if (n <= 0) abort();
        offset += (size_t)n;
    }
    close(fds[1]);
    int saved = dup(0);
    if (dup2(fds[0], 0) != 0) abort();
    close(fds[0]);
    unsigned char *buffer = malloc(capacity);
    int complete;
    size_t length = read_description(buffer, capacity, &complete);
    if (length > capacity || length > size || (!complete && length != capacity)) {
        fprintf(stderr, "fuzz property violated: read_description returned %zu of %zu (buffer %zu)\n", length, size, capacity);
        abort();
    }
    free(buffer);
    dup2(saved, 0);
    close(saved);
}

static void answer(const uint8_t *data, size_t size) {
    static const unsigned char request[] = "protocol=https\nhost=github.com\n\n";
    int peer;
    int fd = fuzz_agent(data, size, &peer);
    struct stat file = {0};
    struct caught caught;
    catch_stderr(&caught);
    answer_from_agent(fd, &file, request, sizeof request - 1);
    release_stderr(&caught);
    check_printable(&caught, 1);
    free(caught.text);
    close(fd);
    close(peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] % 2 == 0) description(data + 1, size - 1);
    else answer(data + 1, size - 1);
    return 0;
}
