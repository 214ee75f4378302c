#!/usr/bin/env bash
test_description='real world: data tools (sqlite3, gzip, xz, zstd, bzip2, lz4, zip, jq, bc, git, clustalo) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

data_setup() {
	seq 1 2000 | sed "s/^/line /" >data.txt
}

test_expect_success 'sqlite3: create a database, query it' '
	rw_need sqlite3 &&
	rw_case sqlite3 "printf \"create table t(a int, b text);\ninsert into t values (1, \\\"x\\\"), (2, \\\"y\\\");\nselect count(*), sum(a) from t;\n\" >s.sql" \
		"echo \"select 3;\" >>s.sql" \
		"sqlite3 db.sqlite <s.sql && sqlite3 db.sqlite \"select b from t order by a\""
'

test_expect_success 'gzip -k' '
	rw_case gzip data_setup "echo end >>data.txt" "gzip -k -9 data.txt && gzip -l data.txt.gz | tail -1 | awk \"{print \\\$2}\""
'

test_expect_success 'xz -k' '
	rw_need xz &&
	rw_case xz data_setup "echo end >>data.txt" "xz -k data.txt && xz -l data.txt.xz | tail -1 | cut -c1-30"
'

test_expect_success 'zstd' '
	rw_need zstd &&
	rw_case zstd data_setup "echo end >>data.txt" "zstd -q -19 data.txt -o data.zst && zstd -dc data.zst | wc -l"
'

test_expect_success 'bzip2 -k' '
	rw_need bzip2 &&
	rw_case bzip2 data_setup "echo end >>data.txt" "bzip2 -k data.txt && bzip2 -tv data.txt.bz2"
'

test_expect_success 'lz4' '
	rw_need lz4 &&
	rw_case lz4 data_setup "echo end >>data.txt" "lz4 -q data.txt data.lz4 && lz4 -dc data.lz4 | tail -1"
'

test_expect_success 'zip and unzip' '
	rw_need zip unzip &&
	rw_case zip data_setup "echo end >>data.txt" "zip -q -X d.zip data.txt && unzip -l d.zip | awk \"NR==4 {print \\\$1, \\\$4}\""
'

test_expect_success 'jq: transform JSON' '
	rw_need jq &&
	rw_case jq "echo \"{\\\"a\\\": [3, 1, 2], \\\"b\\\": \\\"x\\\"}\" >in.json" "echo \"{\\\"a\\\": [9]}\" >in.json" \
		"jq -c \".a | sort\" in.json && jq -r .b in.json"
'

test_expect_success 'bc: arbitrary precision' '
	rw_need bc &&
	rw_case bc "echo \"scale=30; 4*a(1)\" >pi.bc" "echo \"scale=10; 4*a(1)\" >pi.bc" "bc -l pi.bc"
'

git_setup() {
	git init -q repo && (cd repo &&
	echo hello >f.txt && git add f.txt &&
	GIT_AUTHOR_DATE=2001-01-01T00:00:00Z GIT_COMMITTER_DATE=2001-01-01T00:00:00Z \
	git -c user.name=t -c user.email=t@e commit -q -m first)
}
# git keeps its index in the tree: a commit with fixed dates and identity
# gives the same objects on every run.
test_expect_success 'git: status, diff and a commit with fixed dates' '
	rw_need git &&
	rw_case git git_setup "echo changed >>repo/f.txt" \
		"cd repo && echo more >g.txt && git status --short && git add g.txt && GIT_AUTHOR_DATE=2001-01-02T00:00:00Z GIT_COMMITTER_DATE=2001-01-02T00:00:00Z git -c user.name=t -c user.email=t@e commit -q -m second && git log --format=\"%H %s\""
'

# rw_case_inplace NAME SETUP CHANGE CMD: as rw_case, but every run in
# place, as a user reruns in a working tree: a fresh copy moves the ctime
# and inode numbers, which git's index and --strict-stat look at. The
# runs before CHANGE may miss twice (the first writes what the second
# sees) and must then hit; the run after CHANGE must miss. The reports
# are kept outside W's parent, whose times a job may be shown.
rw_case_inplace() {
	rw_name=$1 rw_setup=$2 rw_change=$3 rw_cmd=$4
	S=$TEST_DIR/rw/$rw_name.start W=$TEST_DIR/rw/$rw_name R=$TEST_DIR/rw-r/$rw_name
	mkdir -p "$TEST_DIR/rw-r" && rm -rf "$S" && mkdir -p "$S" &&
	(cd "$S" && eval "$rw_setup") &&
	rw_fresh && rw_run "$rw_name" 1 && rw_status_is miss 1 &&
	rw_run "$rw_name" 2 && rw_run "$rw_name" 2 &&
	# under --strict-stat, git's lstat of each directory up to / sees
	# tests/trash, whose times the test scripts running beside this one
	# move now and then (make check runs two at once): once more, then
	{ rw_status_is hit 2 2>/dev/null ||
	  { rw_run "$rw_name" 2 && rw_status_is hit 2; }; } &&
	(cd "$W" && eval "$rw_change") &&
	rw_run "$rw_name" 3 && rw_status_is miss 3
}

# git's untracked cache (core.untrackedCache, which feature.manyFiles
# sets) keeps each directory's mtime in the index: while a directory's
# mtime equals the one kept, git status lstats the directory and does not
# read it. A file added there moves the mtime, and git reads it again. A
# directory lstat-ed but not listed has no mtime precondition (DESIGN §3,
# "Timestamps"), so the hit replays the old status. --strict-stat tells.
guc_setup() {
	git init -q repo && (cd repo &&
	git config core.untrackedCache true &&
	mkdir sub && echo a >sub/a && echo t >t && git add t sub/a &&
	GIT_AUTHOR_DATE=2001-01-01T00:00:00Z GIT_COMMITTER_DATE=2001-01-01T00:00:00Z \
	git -c user.name=t -c user.email=t@e commit -q -m first &&
	git update-index --untracked-cache && touch -d 2001-01-01 . sub &&
	git status --porcelain && git status --porcelain) >/dev/null
}
test_expect_failure 'git status with the untracked cache: a file added to a directory it does not read: miss' '
	rw_need git &&
	rw_case_inplace guc guc_setup "echo n >repo/sub/new" "cd repo && git status --porcelain"
'

test_expect_success 'git status with the untracked cache, --strict-stat: a file added: miss' '
	rw_need git &&
	RW_OPTS=--strict-stat &&
	rw_case_inplace guc-strict guc_setup "echo n >repo/sub/new" "cd repo && git status --porcelain" &&
	grep -q "^?? sub/new\$" "$R.3.out"
'

# fontconfig keeps each font directory's mtime in its cache file: while
# the stat (following symlinks) of the directory shows that mtime, it
# reads the cache and not the directory. A font added moves the mtime, and
# fc-list reads the directory again. The same limit as git's above.
fc_setup() {
	mkdir fonts cache &&
	cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf fonts/ &&
	printf "<?xml version=\"1.0\"?>\n<fontconfig><dir>%s/fonts</dir><cachedir>%s/cache</cachedir></fontconfig>\n" \
		"$W" "$W" >fonts.conf &&
	touch -d 2001-01-01 fonts &&
	# the cache names the directory by its path: make it where the job runs
	rm -rf "$W" && cp -a . "$W" && FONTCONFIG_FILE=$W/fonts.conf fc-cache "$W/fonts" &&
	cp -a "$W/cache/." cache/
}
test_expect_failure 'fc-list: a font added to a directory fontconfig has a cache of: miss' '
	rw_need fc-list &&
	rw_case fc fc_setup "cp /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf fonts/" \
		"FONTCONFIG_FILE=\$PWD/fonts.conf fc-list : file | sort"
'

test_expect_success 'fc-list, --strict-stat: a font added: miss' '
	rw_need fc-list &&
	RW_OPTS=--strict-stat &&
	rw_case_inplace fc-strict fc_setup "cp /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf fonts/" \
		"FONTCONFIG_FILE=\$PWD/fonts.conf fc-list : file | sort" &&
	grep -q "DejaVuSans-Bold.ttf" "$R.3.out"
'

# zip -r, jar and tar -h archive each directory with its mtime, which
# they read by a stat that follows symlinks: a directory's mtime is an
# observation only when a stat that does not follow showed it (DESIGN
# §3, "Timestamps": make and shells stat their directories so), so a
# touched subdirectory replays the old archive. --strict-stat tells.
archive_setup() {
	mkdir -p d/sub && echo a >d/sub/f && touch -d 2001-01-01 d/sub/f d/sub d
}
test_expect_failure 'zip -r, jar cf, tar -h: a directory touched: miss' '
	rw_need zip jar &&
	rw_case archive-follow archive_setup "touch -d 2002-02-02 d/sub" \
		"zip -qrX - d | md5sum && jar cf x.jar d && md5sum x.jar && rm x.jar && tar -h --sort=name -cf - d | md5sum"
'

test_expect_success 'zip -r, jar cf, tar -h, --strict-stat: a directory touched: miss' '
	rw_need zip jar &&
	RW_OPTS=--strict-stat &&
	rw_case_inplace archive-follow-strict archive_setup "touch -d 2002-02-02 d/sub" \
		"zip -qrX - d | md5sum && jar cf x.jar d && md5sum x.jar && rm x.jar && tar -h --sort=name -cf - d | md5sum"
'

clustalo_setup() {
	printf ">a\nMKTAYIAKQRQISFVKSHFSRQ\n>b\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n>c\nMKSAYIAKQRQISFVKSHFSRQ\n" >seqs.fa
}
test_expect_success 'clustalo: a multiple sequence alignment' '
	rw_need clustalo &&
	rw_case clustalo clustalo_setup "printf \">d\nMKTAYIA\n\" >>seqs.fa" \
		"clustalo -i seqs.fa -o aln.fa --force --threads=1 && cat aln.fa"
'

test_done
