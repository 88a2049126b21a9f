// git-credential-vault: git's credential helper on the vault.
//   git config --global credential.helper "$(command -v git-credential-vault)"
//
// Git waits for its helper on every fetch and push. This small C front end answers git's `get`
// in one request to the vault's unlocked agent (`git` in Sources/TokenVault/Agent/
// AgentMessages.swift, the same request the Swift helper sends: the agent parses git's
// description, chooses the entry, records the read and renders the answer with the library's
// GitReply), because a Swift process takes about two
// milliseconds longer to start than git's own credential-cache (bench/results.md). Everything
// else goes to the helper written in Swift, `tokenvault-git-helper` (installed in
// PREFIX/libexec/tokenvault, or beside this program), with the same arguments and git's
// description passed on unchanged: store and erase, any option, a vault without a running agent,
// and any answer of the agent but a plain yes. It never looks for that helper on PATH.
//
// It keeps git's description in guarded memory that is wiped when done, disables core dumps and
// ptrace before reading it, talks only to an agent of its own user in a private folder, and gives
// the agent at most a second.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent_client.h"
#include "agent_frames.h"
#include "agent_protocol.h"

// As the Swift helper: four times git's longest line.
#define MAX_DESCRIPTION (4 * 65536)

// MARK: Falling back to the Swift helper

// Runs the Swift helper with this program's arguments, in this process. When git's description
// was already read (`consumed` bytes of it), a child process feeds it, then the rest of stdin,
// to the helper.
__attribute__((noreturn)) static void fall_back(char **argv, unsigned char *consumed, size_t length, int more) {
    char helper[PATH_MAX];
    char *program = find_swift_program("tokenvault-git-helper", helper, sizeof helper) ? helper : NULL;
    if (!program) {
        // Git goes on without this helper, as with a locked vault.
        fprintf(stderr, TV_MESSAGE_ERROR "git-credential-vault cannot find tokenvault-git-helper (reinstall TokenVault)\n",
                TV_PROGRAM_CANONICAL);
        if (consumed) sodium_memzero(consumed, length);
        _exit(0);
    }
    if (consumed) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) _exit(0);
        pid_t child = fork();
        if (child < 0) _exit(0);
        if (child == 0) {
            close(fds[0]);
            close(1);
            close(2);
            signal(SIGPIPE, SIG_IGN);
            size_t offset = 0;
            while (offset < length) {
                ssize_t w = write(fds[1], consumed + offset, length - offset);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) { more = 0; break; }
                offset += (size_t)w;
            }
            sodium_memzero(consumed, length);
            // Git's description did not end where this front end stopped reading: pass on the rest.
            unsigned char buffer[4096];
            while (more) {
                ssize_t r = read(0, buffer, sizeof buffer);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0 || write(fds[1], buffer, (size_t)r) != r) break;
            }
            sodium_memzero(buffer, sizeof buffer);
            _exit(0);
        }
        sodium_memzero(consumed, length);
        close(fds[1]);
        if (dup2(fds[0], 0) != 0) _exit(0);
        close(fds[0]);
    }
    argv[0] = program;
    execv(program, argv);
    fprintf(stderr, TV_MESSAGE_ERROR "git-credential-vault cannot run '%s': %s\n", TV_PROGRAM_CANONICAL, program, strerror(errno));
    _exit(0);
}

// MARK: Git's description

// Reads up to a blank line (`\n\n`, `\r\n\r\n`, or one at the very start) or the end of input,
// exactly as the Swift helper does. Sets *complete to 0 when the buffer filled first.
static size_t read_description(unsigned char *buffer, size_t capacity, int *complete) {
    size_t length = 0;
    *complete = 1;
    for (;;) {
        if (length == capacity) { *complete = 0; return length; }
        ssize_t n = read(0, buffer + length, capacity - length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return length;
        size_t start = length >= 3 ? length - 3 : 0;
        length += (size_t)n;
        if (buffer[0] == '\n' || (length >= 2 && buffer[0] == '\r' && buffer[1] == '\n')) return length;
        for (size_t i = start; i < length; i++) {
            if (buffer[i] != '\n') continue;
            if (i >= 1 && buffer[i - 1] == '\n') return length;
            if (i >= 3 && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r') return length;
        }
    }
}

// MARK: The agent's answer
// Sends git's description to the agent on `fd` (for the vault `file`); writes its answer and
// returns 1, or returns 0 having written nothing. The answer is hostile input: Tests/Fuzz/
// CTargets/git-credential-vault.c feeds it arbitrary bytes.
static int answer_from_agent(int fd, const struct stat *file, const unsigned char *description, size_t length) {
    static const char actor[] = "git-credential-vault get";
    int ok = 0;
    size_t capacity = 128 + sizeof actor + length;
    unsigned char *frame = sodium_malloc(capacity);
    unsigned char *response = NULL;
    size_t response_length = 0;
    if (!frame) goto done;
    // Who asks, for the activity log: this program and its parent. An agent of another version
    // answers a failure, and the Swift helper does the work.
    struct writer w = {frame, 4, capacity};
    put_request_head(&w, TV_AGENT_OP_GIT, file, actor);
    put_u64(&w, (uint64_t)time(NULL));
    put_chunk(&w, description, length);
    response = exchange(fd, &w, TV_AGENT_MAXIMUM_GIT_ANSWER, &response_length);
    if (!response) goto done;

    // git list(u8(kind) chunk(text)) chunk(stdout): checked whole before anything is written.
    struct reader r = {response, response_length, 1};
    size_t count;
    if (response[0] != TV_AGENT_ANSWER_GIT || !get_u32(&r, &count) || count > TV_AGENT_GIT_MAXIMUM_MESSAGES) goto done;
    unsigned char kinds[TV_AGENT_GIT_MAXIMUM_MESSAGES];
    const unsigned char *texts[TV_AGENT_GIT_MAXIMUM_MESSAGES];
    size_t text_lengths[TV_AGENT_GIT_MAXIMUM_MESSAGES];
    for (size_t i = 0; i < count; i++) {
        if (!get_u8(&r, &kinds[i]) || !get_chunk(&r, &texts[i], &text_lengths[i])) goto done;
    }
    const unsigned char *out;
    size_t out_length;
    if (!get_chunk(&r, &out, &out_length) || r.offset != r.length) goto done;
    // Nothing here, and the vault has OpenBao remotes: the Swift helper asks them.
    for (size_t i = 0; i < count; i++) {
        if (kinds[i] == TV_AGENT_GIT_ASK_REMOTES && out_length == 0) goto done;
    }
    // Notes are for --verbose, which the Swift helper serves.
    for (size_t i = 0; i < count; i++) {
        if (kinds[i] == TV_AGENT_GIT_WARNING) print_warning(TV_PROGRAM_CANONICAL, texts[i], text_lengths[i]);
    }
    // Written; a failed write is git's problem to report (git then has no credential).
    write_all(1, out, out_length);
    ok = 1;
done:
    if (frame) sodium_free(frame);  // sodium_free wipes.
    if (response) sodium_free(response);
    return ok;
}

// Asks the agent; writes its answer and returns 1, or returns 0 having written nothing.
static int ask_agent(const char *vault, const unsigned char *description, size_t length) {
    char path[PATH_MAX];
    struct stat file;
    if (!vault_is_private(vault, &file) || socket_path(vault, path, sizeof path) != 0) return 0;
    int fd = connect_agent(path);
    if (fd < 0) return 0;
    int ok = answer_from_agent(fd, &file, description, length);
    close(fd);
    return ok;
}

int main(int argc, char **argv) {
    if (!open_standard_descriptors(O_WRONLY)) _exit(0);  // Git goes on without this helper.
    harden_process();

    // Only `[--vault PATH] [--key-file FILE] get`: anything else is the Swift helper's. A key
    // file is the Swift helper's to read when the agent does not answer (it gets argv as it
    // came); an agent that answers was unlocked with it already.
    const char *option = NULL;
    int get = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--vault") == 0 && i + 1 < argc) option = argv[++i];
        else if (strncmp(argv[i], "--vault=", 8) == 0) option = argv[i] + 8;
        else if (strcmp(argv[i], "--key-file") == 0 && i + 1 < argc) i++;
        else if (strncmp(argv[i], "--key-file=", 11) == 0) continue;
        // For erase only; what it says is the Swift helper's to check.
        else if (strcmp(argv[i], "--on-erase") == 0 && i + 1 < argc && (strcmp(argv[i + 1], "reject") == 0 || strcmp(argv[i + 1], "delete") == 0)) i++;
        else if (strcmp(argv[i], "get") == 0 && !get) get = 1;
        else get = -1;
    }
    if (get != 1 || sodium_init() < 0) fall_back(argv, NULL, 0, 0);

    unsigned char *description = sodium_malloc(MAX_DESCRIPTION);
    if (!description) fall_back(argv, NULL, 0, 0);
    int complete;
    size_t length = read_description(description, MAX_DESCRIPTION, &complete);
    char vault[PATH_MAX];
    if (complete && vault_path(option, vault, sizeof vault) == 0 && ask_agent(vault, description, length)) {
        sodium_free(description);
        return 0;
    }
    fall_back(argv, description, length, !complete);
}
