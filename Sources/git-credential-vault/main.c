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

#include "agent_frames.h"
#include "agent_protocol.h"

// As the Swift helper: four times git's longest line.
#define MAX_DESCRIPTION (4 * 65536)

// MARK: Falling back to the Swift helper

// Runs the Swift helper with this program's arguments, in this process. When git's description
// was already read (`consumed` bytes of it), a child process feeds it, then the rest of stdin,
// to the helper.
__attribute__((noreturn)) static void fall_back(char **argv, unsigned char *consumed, size_t length, int more) {
    static const char *const places[] = {"/../libexec/tokenvault/tokenvault-git-helper", "/tokenvault-git-helper"};
    char self[PATH_MAX], helper[PATH_MAX + 64];
    char *program = NULL;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) *slash = 0;
        for (size_t i = 0; i < sizeof places / sizeof *places && !program; i++) {
            snprintf(helper, sizeof helper, "%s%s", self, places[i]);
            if (access(helper, X_OK) == 0) program = helper;
        }
    }
    if (!program) {
        // Git goes on without this helper, as with a locked vault.
        fprintf(stderr, TV_MESSAGE_ERROR "git-credential-vault cannot find tokenvault-git-helper (reinstall TokenVault)\n");
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
    fprintf(stderr, TV_MESSAGE_ERROR "git-credential-vault cannot run '%s': %s\n", program, strerror(errno));
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

// MARK: Where the vault and its agent are (the names and rules of agent_protocol.h)

static int data_folder(char *out, size_t capacity) {
    const char *value;
    if ((value = getenv("XDG_DATA_HOME")) && value[0] == '/') {
        return snprintf(out, capacity, "%s/" TV_DATA_FOLDER, value) < (int)capacity ? 0 : -1;
    }
    // Without HOME the Swift helper finds the home folder in the password database: this program
    // is linked static, where glibc's getpwuid would need the system's NSS libraries at run time.
    value = getenv("HOME");
    if (!value || !*value) return -1;
    return snprintf(out, capacity, "%s/" TV_DATA_FOLDER_UNDER_HOME, value) < (int)capacity ? 0 : -1;
}

static int vault_path(const char *option, char *out, size_t capacity) {
    const char *value;
    char folder[PATH_MAX];
    if (option) return snprintf(out, capacity, "%s", option) < (int)capacity ? 0 : -1;
    if ((value = getenv("TOKENVAULT_PATH")) && *value) return snprintf(out, capacity, "%s", value) < (int)capacity ? 0 : -1;
    if (data_folder(folder, sizeof folder) != 0) return -1;
    return snprintf(out, capacity, "%s/" TV_DEFAULT_VAULT_FILE, folder) < (int)capacity ? 0 : -1;
}

static int socket_path(const char *vault, char *out, size_t capacity) {
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

static int connect_agent(const char *path) {
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
    // The agent must be one of the user's own processes.
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0
        || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.uid != geteuid()) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const unsigned char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        bytes += n;
        length -= (size_t)n;
    }
    return 1;
}

// MARK: The agent's answer
// A warning from the agent, escaped as TerminalText.escape escapes text for the terminal: a
// backslash, a control character or any byte outside printable ASCII (the agent's warnings are
// ASCII; anything else is hostile) never reaches the terminal as it is.
static void print_warning(const unsigned char *text, size_t length) {
    fputs(TV_MESSAGE_WARNING, stderr);
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

// Asks the agent; writes its answer and returns 1, or returns 0 having written nothing.
static int ask_agent(const char *vault, const unsigned char *description, size_t length) {
    char path[PATH_MAX];
    struct stat file, folder;
    // A vault file or folder that others may read or write is the Swift helper's to report.
    char *slash = strrchr(vault, '/');
    if (slash) {
        snprintf(path, sizeof path, "%.*s", slash == vault ? 1 : (int)(slash - vault), vault);
    } else {
        strcpy(path, ".");
    }
    if (stat(vault, &file) != 0 || stat(path, &folder) != 0 || file.st_uid != geteuid() || folder.st_uid != geteuid()
        || (file.st_mode & 077) != 0 || (folder.st_mode & 077) != 0) return 0;
    // SQLite's side files, when there are any, as the Swift helper checks them.
    static const char *const sides[] = {"-wal", "-shm"};
    for (size_t i = 0; i < sizeof sides / sizeof *sides; i++) {
        struct stat side;
        snprintf(path, sizeof path, "%s%s", vault, sides[i]);
        if (lstat(path, &side) == 0 && (!S_ISREG(side.st_mode) || side.st_uid != geteuid() || (side.st_mode & 077) != 0)) return 0;
    }
    // A path through a symbolic link is the Swift helper's (SQLite refuses links).
    int direct = 1;
    size_t size = strlen(vault);
    if (size >= sizeof path) return 0;
    for (size_t i = 1; i <= size && direct; i++) {
        if (i < size && vault[i] != '/') continue;
        struct stat part;
        memcpy(path, vault, i);
        path[i] = 0;
        if (lstat(path, &part) != 0 || S_ISLNK(part.st_mode)) direct = 0;
    }
    if (!direct || socket_path(vault, path, sizeof path) != 0) return 0;
    int fd = connect_agent(path);
    if (fd < 0) return 0;

    // Who asks, for the activity log: this program and its parent.
    char parent[64] = "";
    char comm[64];
    snprintf(comm, sizeof comm, "/proc/%d/comm", (int)getppid());
    int commfd = open(comm, O_RDONLY | O_CLOEXEC);
    if (commfd >= 0) {
        ssize_t n = read(commfd, parent, sizeof parent - 1);
        parent[n > 0 ? (size_t)n : 0] = 0;
        parent[strcspn(parent, "\n")] = 0;
        close(commfd);
    }
    static const char actor[] = "git-credential-vault get";

    int ok = 0;
    size_t capacity = 64 + sizeof actor + sizeof parent + length;
    unsigned char *frame = sodium_malloc(capacity);
    unsigned char *response = NULL;
    size_t response_length = 0;
    if (!frame) goto done;
    struct writer w = {frame, 4, capacity};
    // An agent of another version answers a failure, and the Swift helper does the work.
    unsigned char head[2] = {TV_AGENT_VERSION_BYTE, TV_AGENT_OP_GIT};
    put(&w, head, 2);
    put_u64(&w, (uint64_t)file.st_dev);
    put_u64(&w, (uint64_t)file.st_ino);
    put_chunk(&w, actor, strlen(actor));
    put_u64(&w, (uint64_t)getppid());
    put_chunk(&w, parent, strlen(parent));
    put_u64(&w, (uint64_t)time(NULL));
    put_chunk(&w, description, length);
    if (w.capacity == 0) goto done;
    uint32_t body = (uint32_t)(w.length - 4);
    for (int i = 0; i < 4; i++) frame[i] = (unsigned char)(body >> (8 * i));

    int64_t deadline = now_ms() + TV_AGENT_DEADLINE_MS;
    unsigned char header[4];
    if (!send_all(fd, frame, w.length, deadline) || !receive_all(fd, header, 4, deadline)) goto done;
    response_length = (size_t)header[0] | (size_t)header[1] << 8 | (size_t)header[2] << 16 | (size_t)header[3] << 24;
    if (response_length == 0 || response_length > TV_AGENT_MAXIMUM_GIT_ANSWER) goto done;
    response = sodium_malloc(response_length);
    if (!response || !receive_all(fd, response, response_length, deadline)) goto done;

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
    // Notes are for --verbose, which the Swift helper serves.
    for (size_t i = 0; i < count; i++) {
        if (kinds[i] == TV_AGENT_GIT_WARNING) print_warning(texts[i], text_lengths[i]);
    }
    // Written; a failed write is git's problem to report (git then has no credential).
    write_all(1, out, out_length);
    ok = 1;
done:
    if (frame) sodium_free(frame);  // sodium_free wipes.
    if (response) sodium_free(response);
    close(fd);
    return ok;
}

int main(int argc, char **argv) {
    // A closed stdin, stdout or stderr gets /dev/null, so that no socket takes its number.
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (null != fd) _exit(0);
        }
    }
    // Before any secret is in memory.
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    // Only `[--vault PATH] get`: anything else is the Swift helper's.
    const char *option = NULL;
    int get = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--vault") == 0 && i + 1 < argc) option = argv[++i];
        else if (strncmp(argv[i], "--vault=", 8) == 0) option = argv[i] + 8;
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
