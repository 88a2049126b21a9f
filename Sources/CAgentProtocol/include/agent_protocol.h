#ifndef TOKENVAULT_AGENT_PROTOCOL_H
#define TOKENVAULT_AGENT_PROTOCOL_H

// What the agent and its clients share, written once: the Swift library imports this header
// (module CAgentProtocol) and the C front ends of git-credential-vault and vault include it. The frames
// themselves are described in Sources/TokenVault/Agent/AgentMessages.swift.

// Every request starts with this byte: the protocol's version, with the high bit set. Agents of
// the first version (before the byte existed) read it as an unknown request and answer
// `badRequest`; an agent of this version answers a request without it, or with another version,
// `unsupportedVersion`. Either way the client knows that the agent running is of another
// version of TokenVault: it does the work itself or reports the vault as locked, with the hint
// to run `vault lock` and unlock again. `lock` alone is understood by every version (below).
// Version 3 added `token` (`vault get` answered with its warnings rendered), version 4 `history`
// (an entry's earlier tokens read by the agent on its own open vault), version 5 whether a read
// was recorded (a read-only vault, a full disk) at the end of `entry`, `review` and `history`,
// version 6 the cache of remote (OpenBao) entries: `unlock`'s cache time to live, `remotePut`
// and `remoteGet`.
#define TV_AGENT_PROTOCOL_VERSION 6
#define TV_AGENT_VERSION_BYTE (0x80 | TV_AGENT_PROTOCOL_VERSION)

// `lock` as every version of the agent understands it: a frame whose body is this one byte (no
// version byte), so that `vault lock` stops an agent of any version.
#define TV_AGENT_LOCK_ANY_VERSION 3

// The requests (the byte after the version).
#define TV_AGENT_OP_STATUS 1
#define TV_AGENT_OP_UNLOCK 2
#define TV_AGENT_OP_LOCK 3
#define TV_AGENT_OP_LOOKUP 4
#define TV_AGENT_OP_SEAL 5
#define TV_AGENT_OP_OPEN 6
#define TV_AGENT_OP_MAC 7
#define TV_AGENT_OP_ATTACH 8
#define TV_AGENT_OP_READ 9
#define TV_AGENT_OP_GIT 10
#define TV_AGENT_OP_UNLOCK_KEY 11
#define TV_AGENT_OP_ENTRIES 12
#define TV_AGENT_OP_REVIEW 13
#define TV_AGENT_OP_LOG 14
#define TV_AGENT_OP_TOKEN 15
#define TV_AGENT_OP_HISTORY 16
#define TV_AGENT_OP_REMOTE_PUT 17
#define TV_AGENT_OP_REMOTE_GET 18

// The answers (their first byte).
#define TV_AGENT_ANSWER_OK 0
#define TV_AGENT_ANSWER_STATUS 1
#define TV_AGENT_ANSWER_FAILURE 2
#define TV_AGENT_ANSWER_LOOKUPS 3
#define TV_AGENT_ANSWER_SEALED 4
#define TV_AGENT_ANSWER_OPENED 5
#define TV_AGENT_ANSWER_MACS 6
#define TV_AGENT_ANSWER_ENTRY 7
#define TV_AGENT_ANSWER_GIT 8
#define TV_AGENT_ANSWER_ENTRIES 9
#define TV_AGENT_ANSWER_REVIEW 10
#define TV_AGENT_ANSWER_LOG 11
#define TV_AGENT_ANSWER_TOKEN 12
#define TV_AGENT_ANSWER_HISTORY 13

// The kinds of message in git's reply.
#define TV_AGENT_GIT_WARNING 1
#define TV_AGENT_GIT_NOTE 2
// No local entry matched, and the vault has OpenBao remotes: the C front end hands git's request
// to the Swift helper, which asks them (protocol version 6; its text is empty).
#define TV_AGENT_GIT_ASK_REMOTES 3
// The most messages one git reply carries.
#define TV_AGENT_GIT_MAXIMUM_MESSAGES 64

// `token`'s flag: hand out a revoked or expired token (`vault get --allow-expired`).
#define TV_AGENT_TOKEN_ALLOW_EXPIRED 1
// The most warnings one `token` answer carries (`Entry.readWarnings` writes at most three, and
// a read not recorded one more).
#define TV_AGENT_TOKEN_MAXIMUM_WARNINGS 8

// The largest frame a client reads (an opened manifest: about 240 KB at 10,000 entries).
#define TV_AGENT_MAXIMUM_FRAME (64 << 20)
// The largest request the agent reads; clients split a batch to stay under it.
#define TV_AGENT_MAXIMUM_REQUEST (4 << 20)
// The largest answer the C front end reads (git's reply).
#define TV_AGENT_MAXIMUM_GIT_ANSWER (1 << 20)
// How long a client waits for an answer, in milliseconds.
#define TV_AGENT_DEADLINE_MS 1000

// Where the agents listen: $XDG_RUNTIME_DIR/TV_AGENT_RUNTIME_FOLDER, else
// TV_AGENT_DATA_FOLDER in the default vault's folder ($XDG_DATA_HOME/tokenvault, else
// ~/.local/share/tokenvault). The folder must be the user's own and closed to others.
#define TV_AGENT_RUNTIME_FOLDER "tokenvault"
#define TV_DATA_FOLDER "tokenvault"
#define TV_DATA_FOLDER_UNDER_HOME ".local/share/tokenvault"
#define TV_DEFAULT_VAULT_FILE "vault.db"
#define TV_AGENT_DATA_FOLDER "agents"
// One agent per vault file: the socket is PREFIX, then the hex of an unkeyed BLAKE2b hash of
// HASH_BYTES bytes of the file's real path, then SUFFIX (the agent's lock file: .lock).
#define TV_AGENT_SOCKET_PREFIX "agent-"
#define TV_AGENT_SOCKET_HASH_BYTES 8
#define TV_AGENT_SOCKET_SUFFIX ".sock"

// The command line's two installed names (ProgramName.swift): what it says on stderr starts
// with the name it was invoked as, `tokenvault: error: ` when that is TV_PROGRAM_ALTERNATIVE,
// else `vault: error: ` (the git helper, the agent, any other name: never printed as it came).
#define TV_PROGRAM_CANONICAL "vault"
#define TV_PROGRAM_ALTERNATIVE "tokenvault"
// What the front ends say on stderr: "%s: error: " with the program's name.
#define TV_MESSAGE_ERROR "%s: error: "
#define TV_MESSAGE_WARNING "%s: warning: "

#endif
