// vault: the command line's front end.
//
// `vault get NAME` is the commonest call in scripts (`TOKEN=$(vault get gitlab-ci)`), and a
// Swift process takes longer to start than the whole answer takes through the unlocked agent.
// This small C program answers exactly `vault get NAME` and `vault get NAME --allow-expired` in
// one request to the agent (`token` in Sources/TokenVault/Agent/AgentMessages.swift: the agent
// applies `get`'s rules, records the read, and renders the warnings with the library's
// `Entry.readWarnings`), and prints what the Swift command prints: the token and one newline on
// stdout, the same warnings on stderr.
//
// Everything else is the Swift command line's, `tokenvault-cli` (installed in
// PREFIX/libexec/tokenvault, or beside this program; never looked for on PATH), run in this
// process with the same arguments: other commands, options and forms, a vault or agent that the
// Swift command line would not reach this way, and every answer of the agent but a token (not
// found, in the trash, expired, locked, another version, none in time, a frame that is not a
// token's). An agent that refuses a token records nothing, so the Swift command line's own read
// is the only one; once the agent has begun to answer with a token, it has recorded the read and
// nothing else is asked: a token answer that breaks off or is malformed (the agent died
// mid-frame) is "the vault is locked", exit 3, as the Swift command line says when its agent
// breaks off, never a second read.
//
// Its messages start with the name it was invoked as, `vault` or `tokenvault` (program_name), and
// the Swift command line gets argv[0] as it came, to name itself the same way.
//
// The token stays in memory that is wiped when released (sodium_malloc), is written to stdout
// only, and every byte from the socket is checked against the bytes it came in.

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent_client.h"
#include "agent_frames.h"
#include "agent_protocol.h"

// `vault` or `tokenvault`: the name this program was invoked as, for its messages.
static const char *invoked = TV_PROGRAM_CANONICAL;

// MARK: Handing over to the Swift command line

__attribute__((noreturn)) static void run_swift(char **argv) {
    char program[PATH_MAX];
    if (!find_swift_program("tokenvault-cli", program, sizeof program)) {
        fprintf(stderr, TV_MESSAGE_ERROR "%s cannot find tokenvault-cli (reinstall TokenVault)\n", invoked, invoked);
        _exit(1);
    }
    // argv as it came, argv[0] included: the command line sees what was typed, and names itself
    // after it (ProgramName.adopt).
    execv(program, argv);
    fprintf(stderr, TV_MESSAGE_ERROR "%s cannot run '%s': %s\n", invoked, invoked, program, strerror(errno));
    _exit(1);
}

// MARK: The agent's answer

enum outcome { NOT_ANSWERED, ANSWERED, WRITE_FAILED, BROKE_OFF };

// Asks the agent for `name`'s token. ANSWERED: the warnings and the token are written. NOT_ANSWERED:
// nothing was written (the agent refused, or said nothing usable), and the Swift command line
// does the work. WRITE_FAILED: the token could not be written to stdout (and that is said).
// BROKE_OFF: the agent began a token answer (it recorded the read) and did not finish it.
// On `fd`, a connection to the agent (for the vault `file`). The answer is hostile input:
// Tests/Fuzz/CTargets/vault.c feeds it arbitrary bytes.
static enum outcome token_from_agent(int fd, const struct stat *file, const char *name, size_t name_length, int allow_expired) {
    static const char actor[] = "vault get";  // As the Swift command line names it.
    enum outcome result = NOT_ANSWERED;
    size_t capacity = 128 + sizeof actor + name_length;
    unsigned char *frame = malloc(capacity);  // The name and who asks: no secret.
    unsigned char *response = NULL;
    size_t response_length = 0;
    if (!frame) goto done;
    // Who asks, for the activity log: this command and its parent. An agent of another version
    // answers a failure, and the Swift command line says so.
    struct writer w = {frame, 4, capacity};
    put_request_head(&w, TV_AGENT_OP_TOKEN, file, actor);
    unsigned char flags = allow_expired ? TV_AGENT_TOKEN_ALLOW_EXPIRED : 0;
    put(&w, &flags, 1);
    put_chunk(&w, name, name_length);
    int kind;
    response = exchange_kind(fd, &w, TV_AGENT_MAXIMUM_FRAME, &response_length, &kind);
    if (kind != TV_AGENT_ANSWER_TOKEN) goto done;  // A refusal, another answer, or none.
    // A token answer began: whatever comes of it, the Swift command line does not read again.
    result = BROKE_OFF;
    if (!response) goto done;

    // token list(chunk(warning)) chunk(token): checked whole before anything is written.
    struct reader r = {response, response_length, 1};
    size_t count;
    if (!get_u32(&r, &count) || count > TV_AGENT_TOKEN_MAXIMUM_WARNINGS) goto done;
    const unsigned char *texts[TV_AGENT_TOKEN_MAXIMUM_WARNINGS];
    size_t text_lengths[TV_AGENT_TOKEN_MAXIMUM_WARNINGS];
    for (size_t i = 0; i < count; i++) {
        if (!get_chunk(&r, &texts[i], &text_lengths[i])) goto done;
    }
    const unsigned char *token;
    size_t token_length;
    if (!get_chunk(&r, &token, &token_length) || r.offset != r.length) goto done;
    // Answered: from here on, nothing is asked again, whatever happens.
    result = ANSWERED;
    for (size_t i = 0; i < count; i++) print_rendered_warning(invoked, texts[i], text_lengths[i]);
    fflush(stderr);
    static const unsigned char newline = '\n';
    if (!write_all(1, token, token_length) || !write_all(1, &newline, 1)) {
        // As the Swift command line says it (Output.out).
        fprintf(stderr, TV_MESSAGE_ERROR "cannot write to standard output: %s\n", invoked, strerror(errno));
        result = WRITE_FAILED;
    }
done:
    free(frame);
    if (response) {
        sodium_memzero(response, response_length);  // The token, written.
        sodium_free(response);
    }
    return result;
}

static enum outcome ask_agent(const char *vault, const char *name, int allow_expired) {
    char path[PATH_MAX];
    struct stat file;
    if (!vault_is_private(vault, &file) || socket_path(vault, path, sizeof path) != 0) return NOT_ANSWERED;
    size_t name_length = strlen(name);
    if (name_length > TV_AGENT_MAXIMUM_REQUEST / 2) return NOT_ANSWERED;
    int fd = connect_agent(path);
    if (fd < 0) return NOT_ANSWERED;
    enum outcome result = token_from_agent(fd, &file, name, name_length, allow_expired);
    close(fd);
    return result;
}

int main(int argc, char **argv) {
    invoked = program_name(argc > 0 ? argv[0] : NULL);
    // Only `vault get NAME` and `vault get NAME --allow-expired`, with the default vault (as
    // `fastGet` in VaultCommand.swift reads them): anything else is the Swift command line's.
    int plain = (argc == 3 || (argc == 4 && strcmp(argv[3], "--allow-expired") == 0))
        && strcmp(argv[1], "get") == 0 && argv[2][0] != '-' && strcmp(argv[2], "help") != 0;
    if (!plain) run_swift(argv);
    // A closed stdout: the token cannot be written, and that is said (exit 1), as the Swift
    // command line says it; never a success with the token sent to /dev/null. No /dev/null to
    // fill it with: the Swift command line's to say so, never a success with nothing printed.
    if (!open_standard_descriptors(O_RDONLY)) run_swift(argv);
    harden_process();
    char vault[PATH_MAX];
    if (sodium_init() < 0 || vault_path(NULL, vault, sizeof vault) != 0) run_swift(argv);
    switch (ask_agent(vault, argv[2], argc == 4)) {
    case ANSWERED: return 0;
    case WRITE_FAILED: return 1;  // ExitStatus.other, as the Swift command line.
    case BROKE_OFF:
        // VaultError.locked, as the Swift command line reports an agent that breaks off.
        fprintf(stderr, TV_MESSAGE_ERROR "the vault is locked\n", invoked);
        return 3;  // ExitStatus.locked
    case NOT_ANSWERED: break;
    }
    run_swift(argv);
}
