# make install PREFIX=/usr/local            installs vault, tokenvault and git-credential-vault
#                                          (C front ends) and, in PREFIX/libexec/tokenvault, the
#                                          Swift programs they run: tokenvault-cli,
#                                          tokenvault-git-helper, tokenvault-gitlab
# make install PREFIX=~/.local NAMES=tokenvault   only the name tokenvault (if HashiCorp's vault is installed)
#                                          installs man pages (PREFIX/share/man/man1) for each name too
PREFIX ?= /usr/local
NAMES ?= vault tokenvault
SWIFT_BUILD = swift build -c release --static-swift-stdlib
# The Swift command line is linked fully static (Swift's runtime, glibc, libsodium and SQLite
# included): no dynamic loader, no symbol lookups, no shared libraries mapped at each call, which
# halves the start of every Swift call. lld, because it links static glibc without GNU ld's
# warnings about getpwuid. tokenvault-gitlab and the Swift git helper stay dynamic: they link
# libcurl (GitLab; OpenBao's remotes), which has no practical static form. The git helper runs
# only when the agent cannot answer git alone (locked, or a remote entry to fetch), where the
# key's derivation or OpenBao's answer outweighs the loader. MakefileTests keeps libcurl out of
# the static products.
# Its own build folder, so that the two configurations do not rebuild each other.
SWIFT_STATIC = swift build -c release --scratch-path .build/static -Xswiftc -static-executable -Xswiftc -use-ld=lld
# The C front ends of git-credential-vault and vault, built by the C compiler alone (SwiftPM links
# Swift's runtime into every executable, which costs a millisecond at each call).
CC ?= cc
FRONT_END = .build/cc/git-credential-vault
VAULT_FRONT_END = .build/cc/vault
# Linked static (libsodium's archive, static-pie glibc): no dynamic loader at each of git's calls,
# a tenth of `git credential fill`'s time through the agent.
FRONT_END_FLAGS = -O2 -Wall -Wextra -Werror -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -static-pie -Wl,-z,relro,-z,now

# Man pages: vault(1) and one page per subcommand (vault-get(1), ...) for each name of NAMES,
# written at install by swift-argument-parser's generate-manual from the built command line's
# help (scripts/install-man.sh). The test suite runs `make install-man` with its debug build.
MAN_FOLDER = $(DESTDIR)$(PREFIX)/share/man/man1
MAN_CLI = $$($(SWIFT_STATIC) --show-bin-path)/tokenvault-cli
GENERATE_MANUAL = $$($(SWIFT_BUILD) --show-bin-path)/generate-manual

.PHONY: build front-end install install-completions install-man uninstall test demo bench

build: front-end
	$(SWIFT_STATIC) --product tokenvault-cli
	$(SWIFT_BUILD) --product tokenvault-git-helper
	$(SWIFT_BUILD) --product tokenvault-gitlab
	$(SWIFT_BUILD) --product generate-manual

front-end:
	mkdir -p $(dir $(FRONT_END))
	$(CC) $(FRONT_END_FLAGS) -I Sources/CAgentProtocol/include -o $(FRONT_END) Sources/git-credential-vault/main.c \
		$$(pkg-config --cflags libsodium) "$$(pkg-config --variable=libdir libsodium)/libsodium.a"
	$(CC) $(FRONT_END_FLAGS) -I Sources/CAgentProtocol/include -o $(VAULT_FRONT_END) Sources/vault/main.c \
		$$(pkg-config --cflags libsodium) "$$(pkg-config --variable=libdir libsodium)/libsodium.a"

install-man:
	bash scripts/install-man.sh "$(MAN_CLI)" "$(GENERATE_MANUAL)" $(MAN_FOLDER) $(NAMES)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	for name in $(NAMES); do install -m 755 $(VAULT_FRONT_END) $(DESTDIR)$(PREFIX)/bin/$$name; done
	install -m 755 $(FRONT_END) $(DESTDIR)$(PREFIX)/bin/git-credential-vault
	$(MAKE) --no-print-directory install-man
	install -d $(DESTDIR)$(PREFIX)/libexec/tokenvault
	install -m 755 "$$($(SWIFT_STATIC) --show-bin-path)/tokenvault-cli" $(DESTDIR)$(PREFIX)/libexec/tokenvault/tokenvault-cli
	install -m 755 "$$($(SWIFT_BUILD) --show-bin-path)/tokenvault-git-helper" $(DESTDIR)$(PREFIX)/libexec/tokenvault/tokenvault-git-helper
	install -m 755 "$$($(SWIFT_BUILD) --show-bin-path)/tokenvault-gitlab" $(DESTDIR)$(PREFIX)/libexec/tokenvault/tokenvault-gitlab
	$(MAKE) install-completions

# A completion script for each installed name, registered for that name alone (never `vault`
# when NAMES=tokenvault: HashiCorp's Vault is also `vault`). COMPLETION_CLI: the Swift command
# line that writes them (the release build's, or another, as the tests do).
COMPLETION_CLI ?= $$($(SWIFT_STATIC) --show-bin-path)/tokenvault-cli
BASH_COMPLETIONS = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONS = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISH_COMPLETIONS = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

install-completions:
	install -d $(BASH_COMPLETIONS) $(ZSH_COMPLETIONS) $(FISH_COMPLETIONS)
	cli="$(COMPLETION_CLI)" && for name in $(NAMES); do \
		"$$cli" completions bash --name $$name > $(BASH_COMPLETIONS)/$$name && \
		"$$cli" completions zsh --name $$name > $(ZSH_COMPLETIONS)/_$$name && \
		"$$cli" completions fish --name $$name > $(FISH_COMPLETIONS)/$$name.fish || exit 1; \
	done

uninstall:
	for name in $(NAMES); do rm -f $(MAN_FOLDER)/$$name.1 $(MAN_FOLDER)/$$name-*.1; done
	for name in $(NAMES); do rm -f $(DESTDIR)$(PREFIX)/bin/$$name; done
	rm -f $(DESTDIR)$(PREFIX)/bin/git-credential-vault $(DESTDIR)$(PREFIX)/libexec/tokenvault/tokenvault-cli $(DESTDIR)$(PREFIX)/libexec/tokenvault/tokenvault-git-helper $(DESTDIR)$(PREFIX)/libexec/tokenvault/tokenvault-gitlab
	-rmdir $(DESTDIR)$(PREFIX)/libexec/tokenvault 2>/dev/null
	for name in $(NAMES); do rm -f $(BASH_COMPLETIONS)/$$name $(ZSH_COMPLETIONS)/_$$name $(FISH_COMPLETIONS)/$$name.fish; done

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

bench:
	bash bench/run.sh
