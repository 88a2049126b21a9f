#!/usr/bin/env bash
# Writes the man pages of the command line, vault(1) and one page per subcommand (vault-get(1),
# vault-gitlab-rotate(1), ...), into FOLDER for each NAME (vault, tokenvault): the pages of
# tokenvault say tokenvault. `make install` runs it with the release build; the test suite runs
# `make install-man` with its debug build (ManPageTests).
#
# usage: scripts/install-man.sh CLI GENERATE_MANUAL FOLDER NAME...
#   CLI              the built tokenvault-cli
#   GENERATE_MANUAL  swift-argument-parser's generate-manual (the tool its generate-manual plugin
#                    runs), which runs CLI --experimental-dump-help and writes mdoc
#   FOLDER           where the pages go (PREFIX/share/man/man1)
#
# The command line names itself after argv[0] (ProgramName.swift), so it is run through a link
# named NAME. The generator's pages are named NAME.SUB.1; they are installed as NAME-SUB.1, as
# git's are, with their titles and cross-references (.Dt, .Xr) renamed to match, and an empty line
# of a help text (which roff warns about) written as a paragraph break (.Pp).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CLI GENERATE_MANUAL FOLDER NAME..." >&2
    exit 64
fi
cli=$(realpath "$1") generator=$2 folder=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install -d "$folder"
for name in "$@"; do
    case $name in
        vault|tokenvault) ;;
        *) echo "$0: '$name' is not a name of the command line (vault, tokenvault)" >&2; exit 64 ;;
    esac
    mkdir -p "$work/$name/generated" "$work/$name/pages"
    ln -s "$cli" "$work/$name/$name"
    "$generator" "$work/$name/$name" --multi-page --output-directory "$work/$name/generated"
    for page in "$work/$name/generated"/*.1; do
        title=$(basename "$page" .1)
        sed -e '/^\.\(Dt\|Xr\) /s/\([^ ]\)\.\([^ ]\)/\1-\2/g' -e 's/^$/.Pp/' "$page" > "$work/$name/pages/${title//./-}.1"
    done
    install -m 644 "$work/$name/pages"/*.1 "$folder"
done
