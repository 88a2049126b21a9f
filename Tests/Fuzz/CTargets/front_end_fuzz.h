#ifndef TOKENVAULT_FRONT_END_FUZZ_H
#define TOKENVAULT_FRONT_END_FUZZ_H

// What the fuzz targets of the C front ends share (scripts/fuzz.sh builds them with clang's
// -fsanitize=fuzzer,address, the front end's main.c included with its main renamed): an agent
// on the other end of a socket pair that answers with the input, and stderr caught in memory to
// check what a person would read.

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

// libsodium ready, and stdout (where the front ends write the token or git's answer) to /dev/null.
static void fuzz_front_end_initialize(void) {
    if (sodium_init() < 0) abort();
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) != 1) abort();
}

// A connection whose peer has sent `answer` and then stopped sending (it still receives, so
// that the request is sent whole). *peer is to be closed after use.
static int fuzz_agent(const uint8_t *answer, size_t length, int *peer) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) abort();
    int size = 1 << 20;
    setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(pair[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    size_t offset = 0;
    while (offset < length) {
        ssize_t n = write(pair[1], answer + offset, length - offset);
        if (n <= 0) abort();
        offset += (size_t)n;
    }
    shutdown(pair[1], SHUT_WR);
    *peer = pair[1];
    return pair[0];
}

// stderr caught in memory while a front end writes to it.
struct caught { FILE *saved; char *text; size_t length; };

static void catch_stderr(struct caught *c) {
    fflush(stderr);
    c->saved = stderr;
    c->text = NULL;
    c->length = 0;
    stderr = open_memstream(&c->text, &c->length);
    if (!stderr) abort();
}

static void release_stderr(struct caught *c) {
    fclose(stderr);
    stderr = c->saved;
}

// Aborts (a finding) when the caught text holds a byte that drives a terminal: a C0 control
// but the newline, DEL, or (when `ascii`) any byte outside printable ASCII; else a C1 control
// in UTF-8 (0xC2 0x80 to 0xC2 0x9F).
static void check_printable(const struct caught *c, int ascii) {
    for (size_t i = 0; i < c->length; i++) {
        unsigned char b = (unsigned char)c->text[i];
        int bad = (b < 0x20 && b != '\n') || b == 0x7F || (ascii && b > 0x7E)
            || (b == 0xC2 && i + 1 < c->length && (unsigned char)c->text[i + 1] >= 0x80 && (unsigned char)c->text[i + 1] <= 0x9F);
        if (bad) {
            fprintf(c->saved, "fuzz property violated: byte 0x%02X at %zu of stderr reaches the terminal\n", b, i);
            abort();
        }
    }
}

#endif
