# make install PREFIX=/usr/local            installs vault, tokenvault and git-credential-vault
# make install PREFIX=~/.local NAMES=tokenvault   only the name tokenvault (if HashiCorp's vault is installed)
PREFIX ?= /usr/local
NAMES ?= vault tokenvault
SWIFT_BUILD = swift build -c release --static-swift-stdlib

.PHONY: build install uninstall test demo bench

build:
	$(SWIFT_BUILD) --product vault
	$(SWIFT_BUILD) --product git-credential-vault

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	for name in $(NAMES); do install -m 755 "$$($(SWIFT_BUILD) --show-bin-path)/vault" $(DESTDIR)$(PREFIX)/bin/$$name; done
	install -m 755 "$$($(SWIFT_BUILD) --show-bin-path)/git-credential-vault" $(DESTDIR)$(PREFIX)/bin/git-credential-vault
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	"$$($(SWIFT_BUILD) --show-bin-path)/vault" completions bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vault
	"$$($(SWIFT_BUILD) --show-bin-path)/vault" completions zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vault
	"$$($(SWIFT_BUILD) --show-bin-path)/vault" completions fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vault.fish

uninstall:
	for name in $(NAMES); do rm -f $(DESTDIR)$(PREFIX)/bin/$$name; done
	rm -f $(DESTDIR)$(PREFIX)/bin/git-credential-vault
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vault $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vault $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vault.fish

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

bench:
	bash bench/run.sh
