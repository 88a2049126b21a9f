#ifndef TOKENVAULT_AGENT_FRAMES_H
#define TOKENVAULT_AGENT_FRAMES_H

// The agent's frames for a client in C (the C front end of git-credential-vault): sending and
// receiving under a deadline, and the fields of a frame (little-endian; a chunk is a u32 length
// and its bytes). Swift has its own (AgentProtocol.swift, AgentMessages.swift); the numbers
// both use are in agent_protocol.h. Not part of the Swift module (see module.modulemap).

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static inline int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline int wait_for(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd entry = {.fd = fd, .events = events};
        int ready = poll(&entry, 1, (int)left);
        if (ready > 0) return 1;
        if (ready < 0 && errno != EINTR) return 0;
    }
}

static inline int send_all(int fd, const unsigned char *bytes, size_t length, int64_t deadline) {
    size_t offset = 0;
    while (offset < length) {
        ssize_t n = send(fd, bytes + offset, length - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) { if (!wait_for(fd, POLLOUT, deadline)) return 0; continue; }
        if (n <= 0) return 0;
        offset += (size_t)n;
    }
    return 1;
}

static inline int receive_all(int fd, unsigned char *bytes, size_t length, int64_t deadline) {
    size_t offset = 0;
    while (offset < length) {
        ssize_t n = recv(fd, bytes + offset, length - offset, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) { if (!wait_for(fd, POLLIN, deadline)) return 0; continue; }
        if (n <= 0) return 0;
        offset += (size_t)n;
    }
    return 1;
}

struct writer { unsigned char *bytes; size_t length, capacity; };

static inline void put(struct writer *w, const void *bytes, size_t length) {
    if (w->length + length > w->capacity) { w->capacity = 0; return; }  // Marks it failed.
    memcpy(w->bytes + w->length, bytes, length);
    w->length += length;
}

static inline void put_u32(struct writer *w, uint32_t value) {
    unsigned char b[4] = {(unsigned char)value, (unsigned char)(value >> 8), (unsigned char)(value >> 16), (unsigned char)(value >> 24)};
    put(w, b, 4);
}

static inline void put_u64(struct writer *w, uint64_t value) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(value >> (8 * i));
    put(w, b, 8);
}

static inline void put_chunk(struct writer *w, const void *bytes, size_t length) {
    put_u32(w, (uint32_t)length);
    put(w, bytes, length);
}

struct reader { const unsigned char *bytes; size_t length, offset; };

static inline int get_u8(struct reader *r, unsigned char *value) {
    if (r->length - r->offset < 1) return 0;
    *value = r->bytes[r->offset++];
    return 1;
}

static inline int get_u32(struct reader *r, size_t *value) {
    if (r->length - r->offset < 4) return 0;
    const unsigned char *b = r->bytes + r->offset;
    *value = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24;
    r->offset += 4;
    return 1;
}

static inline int get_chunk(struct reader *r, const unsigned char **bytes, size_t *length) {
    if (!get_u32(r, length) || r->length - r->offset < *length) return 0;
    *bytes = r->bytes + r->offset;
    r->offset += *length;
    return 1;
}

#endif
