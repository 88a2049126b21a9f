#ifndef TOKENVAULT_AGENT_CLIENT_H
#define TOKENVAULT_AGENT_CLIENT_H

// What the two C front ends (git-credential-vault and vault) share to reach the agent as the
// Swift programs do: where the vault and its agent are (the names and rules of
// agent_protocol.h, as VaultLocation and AgentProtocol+Place.swift apply them), the checks
// before a vault file is trusted to the agent, connecting, who asks (for the activity log),
// printing the agent's warnings, and handing over to the Swift program. Not part of the Swift
// module (see module.modulemap). Include after defining _GNU_SOURCE.

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "agent_frames.h"
#include "agent_protocol.h"

// A closed stdin, stdout or stderr gets /dev/null, so that no socket takes its number: opened
// with `output_flags` for stdout and stderr. O_WRONLY swallows what is written there; O_RDONLY
// makes each write fail (EBADF), as in the Swift programs, where SQLite fills a closed standard
// descriptor with /dev/null read-only, so that a token is never "printed" to nowhere with success.
// 0 when a closed one could not be filled (no /dev/null): the caller must not open anything.
static inline int open_standard_descriptors(int output_flags) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null = open("/dev/null", fd == 0 ? O_RDONLY : output_flags);
            if (null != fd) {
                if (null >= 0) close(null);
                return 0;
            }
        }
    }
    return 1;
}

// Before any secret is in memory: no core dump, no ptrace by the user's other processes.
static inline void harden_process(void) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// MARK: Handing over to the Swift program

// The Swift program `name` installed with this one: PREFIX/libexec/tokenvault/NAME (this program
// being PREFIX/bin/...), or beside this program (SwiftPM's build folder). Never looked for on
// PATH. 0 when there is none.
static inline int find_swift_program(const char *name, char *out, size_t capacity) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 0;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    static const char *const places[] = {"%s/../libexec/tokenvault/%s", "%s/%s"};
    for (size_t i = 0; i < sizeof places / sizeof *places; i++) {
        int length = snprintf(out, capacity, places[i], self, name);
        if (length > 0 && (size_t)length < capacity && access(out, X_OK) == 0) return 1;
    }
    return 0;
}

// MARK: Where the vault and its agent are

static inline int data_folder(char *out, size_t capacity) {
    const char *value;
    if ((value = getenv("XDG_DATA_HOME")) && value[0] == '/') {
        return snprintf(out, capacity, "%s/" TV_DATA_FOLDER, value) < (int)capacity ? 0 : -1;
    }
    // Without HOME the Swift programs find the home folder in the password database: these
    // programs are linked static, where glibc's getpwuid would need the system's NSS libraries
    // at run time. The Swift program then does the work.
    value = getenv("HOME");
    if (!value || !*value) return -1;
    return snprintf(out, capacity, "%s/" TV_DATA_FOLDER_UNDER_HOME, value) < (int)capacity ? 0 : -1;
}

// `option` (--vault), else $TOKENVAULT_PATH, else the default vault (VaultLocation.defaultPath).
static inline int vault_path(const char *option, char *out, size_t capacity) {
    const char *value;
    char folder[PATH_MAX];
    if (option) return snprintf(out, capacity, "%s", option) < (int)capacity ? 0 : -1;
    if ((value = getenv("TOKENVAULT_PATH")) && *value) return snprintf(out, capacity, "%s", value) < (int)capacity ? 0 : -1;
    if (data_folder(folder, sizeof folder) != 0) return -1;
    return snprintf(out, capacity, "%s/" TV_DEFAULT_VAULT_FILE, folder) < (int)capacity ? 0 : -1;
}

static inline int socket_path(const char *vault, char *out, size_t capacity) {
    char folder[PATH_MAX];
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (runtime && runtime[0] == '/') {
        if (snprintf(folder, sizeof folder, "%s/" TV_AGENT_RUNTIME_FOLDER, runtime) >= (int)sizeof folder) return -1;
    } else {
        char data[PATH_MAX];
        if (data_folder(data, sizeof data) != 0
            || snprintf(folder, sizeof folder, "%s/" TV_AGENT_DATA_FOLDER, data) >= (int)sizeof folder) return -1;
    }
    struct stat info;
    if (lstat(folder, &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != geteuid() || (info.st_mode & 077) != 0) return -1;
    char *real = realpath(vault, NULL);
    const char *resolved = real ? real : vault;
    unsigned char digest[TV_AGENT_SOCKET_HASH_BYTES];
    crypto_generichash(digest, sizeof digest, (const unsigned char *)resolved, strlen(resolved), NULL, 0);
    free(real);
    char hex[2 * sizeof digest + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return snprintf(out, capacity, "%s/" TV_AGENT_SOCKET_PREFIX "%s" TV_AGENT_SOCKET_SUFFIX, folder, hex) < (int)capacity ? 0 : -1;
}

// 1 when the vault at `vault` may be read through the agent by a C front end: the file and its
// folder the user's own, the file closed to others and the folder closed to their writes (the
// library's rule, VaultLocation.checkPrivate), SQLite's side files (when there are any) too, and
// no symbolic link on the way (SQLite refuses links). Anything else is the Swift program's to
// report. Fills *file with the vault file's stat.
static inline int vault_is_private(const char *vault, struct stat *file) {
    char path[PATH_MAX];
    struct stat folder;
    size_t size = strlen(vault);
    if (size == 0 || size >= sizeof path) return 0;
    const char *slash = strrchr(vault, '/');
    if (slash) {
        snprintf(path, sizeof path, "%.*s", slash == vault ? 1 : (int)(slash - vault), vault);
    } else {
        strcpy(path, ".");
    }
    if (stat(vault, file) != 0 || stat(path, &folder) != 0 || file->st_uid != geteuid() || folder.st_uid != geteuid()
        || (file->st_mode & 077) != 0 || (folder.st_mode & 022) != 0) return 0;
    static const char *const sides[] = {"-wal", "-shm"};
    for (size_t i = 0; i < sizeof sides / sizeof *sides; i++) {
        struct stat side;
        if (snprintf(path, sizeof path, "%s%s", vault, sides[i]) >= (int)sizeof path) return 0;
        if (lstat(path, &side) == 0 && (!S_ISREG(side.st_mode) || side.st_uid != geteuid() || (side.st_mode & 077) != 0)) return 0;
    }
    for (size_t i = 1; i <= size; i++) {
        if (i < size && vault[i] != '/') continue;
        struct stat part;
        memcpy(path, vault, i);
        path[i] = 0;
        if (lstat(path, &part) != 0 || S_ISLNK(part.st_mode)) return 0;
    }
    return 1;
}

// A connection to the agent at `path`, or -1: the agent must be one of the user's own processes.
static inline int connect_agent(const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) return -1;
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    // A busy or stopped agent does not accept: connect() then waits at most this long.
    struct timeval second = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &second, sizeof second);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second);
    struct ucred peer;
    socklen_t size = sizeof peer;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0
        || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.uid != geteuid()) {
        close(fd);
        return -1;
    }
    return fd;
}

// The parent's command name (/proc/PPID/comm, up to its line feed), as ActivityLog.parent reads
// it; empty when it cannot be read.
static inline void parent_name(char *out, size_t capacity) {
    char comm[64];
    out[0] = 0;
    snprintf(comm, sizeof comm, "/proc/%d/comm", (int)getppid());
    int fd = open(comm, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, out, capacity - 1);
    out[n > 0 ? (size_t)n : 0] = 0;
    out[strcspn(out, "\n")] = 0;
    close(fd);
}

// A request's first fields into `w` (whose first four bytes are left for the frame's length):
// the version byte, `op`, the vault file, and who asks (`actor`, and the parent process).
static inline void put_request_head(struct writer *w, unsigned char op, const struct stat *file, const char *actor) {
    char parent[64];
    parent_name(parent, sizeof parent);
    unsigned char head[2] = {TV_AGENT_VERSION_BYTE, op};
    put(w, head, 2);
    put_u64(w, (uint64_t)file->st_dev);
    put_u64(w, (uint64_t)file->st_ino);
    put_chunk(w, actor, strlen(actor));
    put_u64(w, (uint64_t)getppid());
    put_chunk(w, parent, strlen(parent));
}

// Sends the request in `w` and receives the answer, within TV_AGENT_DEADLINE_MS: its body in
// memory that sodium_free wipes, or NULL (nothing usable came: a failed `w`, a timeout, a
// closed connection, an empty frame, or one longer than `maximum`). *kind is the answer's first
// byte once that arrived, even when the rest did not, else -1: an agent that began to answer
// acted on the request, one that said nothing may not have.
static inline unsigned char *exchange_kind(int fd, struct writer *w, size_t maximum, size_t *answer_length, int *kind) {
    *kind = -1;
    if (w->capacity == 0 || w->length < 4) return NULL;
    uint32_t body = (uint32_t)(w->length - 4);
    for (int i = 0; i < 4; i++) w->bytes[i] = (unsigned char)(body >> (8 * i));
    int64_t deadline = now_ms() + TV_AGENT_DEADLINE_MS;
    unsigned char header[4];
    if (!send_all(fd, w->bytes, w->length, deadline) || !receive_all(fd, header, 4, deadline)) return NULL;
    size_t length = (size_t)header[0] | (size_t)header[1] << 8 | (size_t)header[2] << 16 | (size_t)header[3] << 24;
    if (length == 0 || length > maximum) return NULL;
    unsigned char *answer = sodium_malloc(length);
    if (!answer) return NULL;
    if (receive_all(fd, answer, 1, deadline)) *kind = answer[0];
    if (*kind < 0 || !receive_all(fd, answer + 1, length - 1, deadline)) {
        sodium_free(answer);
        return NULL;
    }
    *answer_length = length;
    return answer;
}

static inline unsigned char *exchange(int fd, struct writer *w, size_t maximum, size_t *answer_length) {
    int kind;
    return exchange_kind(fd, w, maximum, answer_length, &kind);
}

static inline int write_all(int fd, const unsigned char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        bytes += n;
        length -= (size_t)n;
    }
    return 1;
}

// MARK: Text from the agent, for the terminal

// `vault` or `tokenvault` for a program invoked as `argument0` (as ProgramName.name(invokedAs:)):
// its last path component when that is TV_PROGRAM_ALTERNATIVE, else TV_PROGRAM_CANONICAL. The name
// it was invoked as is input from outside: it only chooses between the two, and is never printed.
static inline const char *program_name(const char *argument0) {
    const char *slash = argument0 ? strrchr(argument0, '/') : NULL;
    const char *base = slash ? slash + 1 : argument0;
    return base && strcmp(base, TV_PROGRAM_ALTERNATIVE) == 0 ? TV_PROGRAM_ALTERNATIVE : TV_PROGRAM_CANONICAL;
}

// A warning from the agent, escaped as TerminalText.escape escapes text for the terminal: a
// backslash, a control character or any byte outside printable ASCII never reaches the terminal
// as it is. For text nobody escaped yet (git's reply), and for hostile text. `program` is
// program_name's.
static inline void print_warning(const char *program, const unsigned char *text, size_t length) {
    fprintf(stderr, TV_MESSAGE_WARNING, program);
    for (size_t i = 0; i < length; i++) {
        unsigned char c = text[i];
        if (c == '\\') fputs("\\\\", stderr);
        else if (c == 0x1b) fputs("\\e", stderr);
        else if (c == '\n') fputs("\\n", stderr);
        else if (c == '\r') fputs("\\r", stderr);
        else if (c == '\t') fputs("\\t", stderr);
        else if (c < 0x20 || c > 0x7e) fprintf(stderr, "\\x%02X", c);
        else fputc(c, stderr);
    }
    fputc('\n', stderr);
}

// True for a scalar TerminalText.isUnprintable rewrites: Unicode's Cc (C0, DEL, C1), Cf
// (format: soft hyphen, bidirectional controls, zero-width and invisible characters, tags...),
// Zl and Zp.
static inline int scalar_is_unprintable(uint32_t s) {
    static const uint32_t ranges[][2] = {
        {0x0, 0x1F}, {0x7F, 0x9F}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C}, {0x6DD, 0x6DD},
        {0x70F, 0x70F}, {0x890, 0x891}, {0x8E2, 0x8E2}, {0x180E, 0x180E}, {0x200B, 0x200F},
        {0x2028, 0x202E}, {0x2060, 0x2064}, {0x2066, 0x206F}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB},
        {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
        {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        if (s >= ranges[i][0] && s <= ranges[i][1]) return 1;
    }
    return 0;
}

// 1 when `text` is well-formed UTF-8 holding no scalar a terminal would not simply show: text
// the library escaped already (Entry.readWarnings) is, and is printed as it came.
static inline int text_is_printable(const unsigned char *text, size_t length) {
    size_t i = 0;
    while (i < length) {
        unsigned char c = text[i];
        uint32_t scalar, minimum;
        size_t extra;
        if (c < 0x80) { scalar = c; extra = 0; minimum = 0; }
        else if ((c & 0xE0) == 0xC0) { scalar = c & 0x1F; extra = 1; minimum = 0x80; }
        else if ((c & 0xF0) == 0xE0) { scalar = c & 0x0F; extra = 2; minimum = 0x800; }
        else if ((c & 0xF8) == 0xF0) { scalar = c & 0x07; extra = 3; minimum = 0x10000; }
        else return 0;
        if (length - i - 1 < extra) return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((text[i + k] & 0xC0) != 0x80) return 0;
            scalar = scalar << 6 | (text[i + k] & 0x3F);
        }
        if (scalar < minimum || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar <= 0xDFFF)) return 0;
        if (scalar_is_unprintable(scalar)) return 0;
        i += extra + 1;
    }
    return 1;
}

// A warning line the library rendered (escaped) for the terminal: printed as it came, unless
// it could drive the terminal (then it is hostile, and escaped here all the same). The agent
// quotes a command as 'vault ...' (Entry.readWarnings): under `program`'s name here.
static inline void print_rendered_warning(const char *program, const unsigned char *text, size_t length) {
    if (!text_is_printable(text, length)) { print_warning(program, text, length); return; }
    fprintf(stderr, TV_MESSAGE_WARNING, program);
    static const char quoted[] = "'" TV_PROGRAM_CANONICAL " ";
    const size_t quoted_length = sizeof quoted - 1;
    int renamed = strcmp(program, TV_PROGRAM_CANONICAL) != 0;
    size_t start = 0;
    for (size_t i = 0; renamed && i + quoted_length <= length; i++) {
        if (memcmp(text + i, quoted, quoted_length) != 0) continue;
        fwrite(text + start, 1, i - start, stderr);
        fprintf(stderr, "'%s ", program);
        start = i + quoted_length;
        i = start - 1;
    }
    fwrite(text + start, 1, length - start, stderr);
    fputc('\n', stderr);
}

#endif
