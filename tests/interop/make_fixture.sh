#!/bin/sh
# Creates the small interop fixture repositories with Debian's hg, zlib
# revlogs (pure Mercurial 5.8.1 cannot read zstd). Fixed users and dates make
# every node hash the same on each run.
#
#   make_fixture.sh DIR               the served repository. Shapes covered: a
#       modification, an executable file, a copy (filelog metadata), a named
#       branch, a merge, a bookmark, public and draft phases. No removals
#       (5.8.1's filesdata bug, notes section 7.1).
#   make_fixture.sh --diverged SRC DEST   a client repository holding SRC's
#       revisions 0-1 plus one local changeset SRC lacks, so that discovery
#       needs a second `known` round.
set -eu
export HGRCPATH= HGPLAIN=1 HGUSER=test
if [ "$1" = --diverged ]; then
  hg clone -q -U --config format.revlog-compression=zlib -r 1 "$2" "$3"
  cd "$3"
  hg up -q 1; echo local > local; hg add -q local; hg ci -qm local -d '9 0'; hg up -q null
  exit 0
fi
hg init --config format.revlog-compression=zlib "$1"
cd "$1"
echo a0 > a; mkdir dir; echo c > dir/c.txt; hg add -q; hg ci -qm 'commit 0' -d '0 0'
echo a1 >> a; echo b > b; chmod +x b; hg add -q b; hg ci -qm 'commit 1' -d '1 0'
hg cp a acopy; hg ci -qm copy -d '2 0'
hg up -q 1; hg branch -q feature; echo f > f; hg add -q f; hg ci -qm feature -d '3 0'
hg up -q default; hg merge -q feature; hg ci -qm merge -d '4 0'
hg bookmark -r 2 book1
hg phase -q --public -r 2
